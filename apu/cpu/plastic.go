package cpu

import (
	"math"

	"github.com/spikeloop/spikeloop/models"
)

// STDP (docs/models/synapses.md) in the engine. A post population that some plastic
// synapse targets gets a postTrace: the traces K- and K-3 of each neuron,
// a short history of its recent spikes (enough to answer K-(t_pre - d)),
// and a schedule of the facilitations its spikes cause d_dend steps later.
// Facilitation is applied eagerly (docs/models/synapses.md): at the end of the step
// in which t_post + d is reached, before that step's pre spikes, so the
// transmitted weights equal NEST's all-to-all rule and the history never
// grows beyond d_dend + 2 entries per neuron.

type postTrace struct {
	dt            float64
	stdpTau, tauT float64
	dd            []int32   // dendritic delay per neuron, steps
	kminus, kminT []float64 // K-, K-3 after the last spike
	tlast         []int64   // stamp of the last spike
	histCap       int
	histN         []int32    // entries held per neuron (<= histCap)
	histHead      []int32    // index of the newest entry
	histT         []int64    // [neuron*histCap + e] stamp
	histK         []float64  // K- after that spike
	due           [][]dueFac // ring by stamp % len: facilitations due at that stamp
	in            []*plasticRT
}

// dueFac is a post spike whose facilitation is due.
type dueFac struct {
	neuron int32
	tpost  int64
	ky     float64 // K-3 just before that spike: the entry's K-3 minus 1 (docs/models/synapses.md)
}

// plasticRT is the per-connection state of one plastic synapse entry,
// indexed like its projRT's connections, plus the incoming lists by post
// neuron for facilitation.
type plasticRT struct {
	rule   *models.STDPRule
	w      []float64 // the projection's weights, updated in place
	kplus  []float64
	kplusT []float64
	tpre   []int64 // stamp of the last pre spike (0 at start)
	pre    []int32 // pre unit of each connection
	inOff  []int32 // connections into post j: inIdx[inOff[j]:inOff[j+1]]
	inIdx  []int32
	trace  *postTrace
}

func newPostTrace(ps *models.PopulationSpec, dt float64) *postTrace {
	n := ps.Size
	maxD := int32(1)
	for _, d := range ps.Trace.DendriticDelay {
		maxD = max(maxD, d)
	}
	pt := &postTrace{dt: dt, stdpTau: ps.Trace.StdpTau, tauT: ps.Trace.TauTriplet, dd: ps.Trace.DendriticDelay,
		kminus: make([]float64, n), kminT: make([]float64, n), tlast: make([]int64, n),
		histCap: int(maxD) + 2, histN: make([]int32, n), histHead: make([]int32, n)}
	pt.histT = make([]int64, n*pt.histCap)
	pt.histK = make([]float64, n*pt.histCap)
	pt.due = make([][]dueFac, maxD+1)
	for i := range pt.due {
		pt.due[i] = make([]dueFac, 0, n)
	}
	return pt
}

func newPlastic(s *models.SynapseSpec, pr *projRT, pt *postTrace) *plasticRT {
	n := len(pr.target)
	pl := &plasticRT{rule: s.STDP, w: pr.weight, kplus: make([]float64, n), kplusT: make([]float64, n), tpre: make([]int64, n),
		pre: make([]int32, n), inOff: make([]int32, s.Post.Size+1), inIdx: make([]int32, n), trace: pt}
	for i := 0; i+1 < len(pr.off); i++ {
		for c := pr.off[i]; c < pr.off[i+1]; c++ {
			pl.pre[c] = int32(i)
		}
	}
	for c := range pl.kplus {
		pl.kplus[c] = s.STDP.Kplus
		pl.kplusT[c] = s.STDP.KplusTriplet
		pl.inOff[pr.target[c]+1]++
	}
	for j := 1; j < len(pl.inOff); j++ {
		pl.inOff[j] += pl.inOff[j-1]
	}
	fill := append([]int32(nil), pl.inOff[:s.Post.Size]...)
	for c, j := range pr.target {
		pl.inIdx[fill[j]] = int32(c)
		fill[j]++
	}
	return pl
}

// postSpiked records the spikes of stamp `stamp` in the traces and
// schedules their facilitation (docs/models/synapses.md).
func (pt *postTrace) postSpiked(spiked []int32, stamp int64) {
	for _, j := range spiked {
		dtms := float64(stamp-pt.tlast[j]) * pt.dt
		ky := pt.kminT[j] * math.Exp(-dtms/pt.tauT) // K-3 just before this spike
		pt.kminus[j] = pt.kminus[j]*math.Exp(-dtms/pt.stdpTau) + 1
		pt.kminT[j] = ky + 1
		pt.tlast[j] = stamp
		// History ring of this neuron.
		base := int(j) * pt.histCap
		h := (pt.histHead[j] + 1) % int32(pt.histCap)
		pt.histHead[j] = h
		pt.histT[base+int(h)] = stamp
		pt.histK[base+int(h)] = pt.kminus[j]
		if pt.histN[j] < int32(pt.histCap) {
			pt.histN[j]++
		}
		slot := (stamp + int64(pt.dd[j])) % int64(len(pt.due))
		pt.due[slot] = append(pt.due[slot], dueFac{neuron: j, tpost: stamp, ky: ky})
	}
}

// kminusAt is K-(t) for t in stamps: post spikes strictly before t count.
func (pt *postTrace) kminusAt(j int32, t int64) float64 {
	base := int(j) * pt.histCap
	h := pt.histHead[j]
	for e := int32(0); e < pt.histN[j]; e++ {
		idx := base + int((h-e+int32(pt.histCap))%int32(pt.histCap))
		if tp := pt.histT[idx]; tp < t {
			return pt.histK[idx] * math.Exp(-float64(t-tp)*pt.dt/pt.stdpTau)
		}
	}
	return 0
}

// facilitateDue applies the facilitations due at stamp to every plastic
// synapse into this population, then clears the slot.
func (pt *postTrace) facilitateDue(stamp int64) {
	slot := stamp % int64(len(pt.due))
	for _, f := range pt.due[slot] {
		tReach := f.tpost + int64(pt.dd[f.neuron])
		for _, pl := range pt.in {
			r := pl.rule
			for _, c := range pl.inIdx[pl.inOff[f.neuron]:pl.inOff[f.neuron+1]] {
				k := pl.kplus[c] * math.Exp(float64(pl.tpre[c]-tReach)*pt.dt/r.TauPlus)
				pl.w[c] = r.Facilitate(pl.w[c], k, f.ky)
			}
		}
	}
	pt.due[slot] = pt.due[slot][:0]
}

// routePlastic is routeSpikes for a plastic synapse entry: each
// connection carrying a spike is depressed by the post trace at
// t_pre - d, updates its presynaptic traces (docs/models/synapses.md) and
// then queues w*s.
func routePlastic(pr *projRT, pre *popRT, k int64) {
	pl, post, pt := pr.plastic, pr.post, pr.plastic.trace
	r := pl.rule
	L := int64(post.ringLen)
	tpre := k + 1
	for _, i := range pre.spiked {
		s := 1.0
		if pre.out != nil {
			s = pre.out[i]
		}
		for c := pr.off[i]; c < pr.off[i+1]; c++ {
			j := pr.target[c]
			km := pt.kminusAt(j, tpre-int64(pt.dd[j]))
			elapsed := float64(pl.tpre[c]-tpre) * pt.dt // <= 0
			w := pr.weight[c]
			if r.Triplet {
				pl.kplusT[c] *= math.Exp(elapsed / r.TauPlusTriplet)
				w = r.Depress(w, km, pl.kplusT[c])
				pl.kplusT[c]++
			} else {
				w = r.Depress(w, km, 0)
			}
			pl.kplus[c] = pl.kplus[c]*math.Exp(elapsed/r.TauPlus) + 1
			pl.tpre[c] = tpre
			pr.weight[c] = w
			d := pr.delay0
			if pr.delay != nil {
				d = pr.delay[c]
			}
			slot := int((k + int64(d)) % L)
			post.wRing[slot][pr.port][j] += w * s
			post.wDirty[slot][pr.port] = true
			post.wQueued[slot][pr.port].whole = true
		}
	}
}
