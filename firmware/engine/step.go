package engine

import "github.com/spikeloop/spikeloop/firmware/image"

func (e *Engine) step() {
	k := e.now
	// 1. Generators emit; zero-delay connections deliver at once.
	for i := range e.pops {
		p := &e.pops[i]
		if !p.kind.IsGenerator() {
			continue
		}
		e.emit(p, i, k)
		e.route(p, true, k)
	}
	// 2. Neurons in index order, with the input that arrives for k.
	for i := range e.pops {
		p := &e.pops[i]
		if p.kind.IsGenerator() {
			continue
		}
		slot := int(k % int64(p.ringLen))
		p.spiked = p.spiked[:0]
		var cur []int32
		if p.iRing != nil && p.iDirty[slot] {
			cur = p.iRing[slot*p.size : (slot+1)*p.size]
		}
		switch p.kind {
		case image.KindLIF:
			stepLIF(p, e.wRow(p, slot, 0), cur)
		case image.KindExpLIF:
			stepExpLIF(e, p, slot, cur)
		case image.KindIzhikevich:
			stepIzh(p, e.wRow(p, slot, 0), cur)
		case image.KindSNNIF, image.KindSNNLIF:
			stepSNN(p, e.wRow(p, slot, 0), cur)
		}
		// The slot is free again: what arrives there next is for step
		// k + ringLen.
		if cur != nil {
			clear(cur)
			p.iDirty[slot] = false
		}
		if p.wRing != nil {
			for r := 0; r < p.ports; r++ {
				if j := slot*p.ports + r; p.wDirty[j] {
					clear(p.wRing[j*p.size : (j+1)*p.size])
					p.wDirty[j] = false
				}
			}
		}
		e.route(p, true, k)
	}
	// 3. Record step k's spikes with stamp k+1, deliver to k + D.
	stamp := k + 1
	for i := range e.pops {
		p := &e.pops[i]
		if on := e.spikeOn[i]; on != nil {
			for _, u := range p.spiked {
				if !on[u] {
					continue
				}
				if len(e.spikes) == cap(e.spikes) {
					e.dropped++
					continue
				}
				e.spikes = append(e.spikes, Spike{Pop: uint32(i), Unit: u, Stamp: stamp})
			}
		}
		e.route(p, false, k)
	}
	e.now++
	// 4. Monitors sample the state at stamp k+1.
	for j := range e.mons {
		if t := &e.mons[j]; stamp%t.every == 0 {
			e.sample(t, stamp)
		}
	}
}

// wRow is the spike input of port r for the step in slot, nil when
// nothing arrived.
func (e *Engine) wRow(p *pop, slot, r int) []int32 {
	if p.wRing == nil {
		return nil
	}
	j := slot*p.ports + r
	if !p.wDirty[j] {
		return nil
	}
	return p.wRing[j*p.size : (j+1)*p.size]
}

// route delivers the step-k output of p over its connections with delay
// 0 (zero) or >= 1 (!zero).
func (e *Engine) route(p *pop, zero bool, k int64) {
	current := p.flags&image.FlagCurrent != 0
	if !current && len(p.spiked) == 0 {
		return
	}
	for _, si := range p.outSyn {
		info := e.syns[si]
		if zero && !info.zero || !zero && !info.delayed {
			continue
		}
		s := &e.img.Synapses[si]
		post := &e.pops[s.Post]
		L := post.ringLen
		base := int(k % int64(L))
		n := &post.sat
		if current {
			for i, x := range p.out {
				if x == 0 {
					continue
				}
				for c := s.Off[i]; c < s.Off[i+1]; c++ {
					d := int(s.Delay[c])
					if (d == 0) != zero {
						continue
					}
					slot := base + d
					if slot >= L {
						slot -= L
					}
					j := slot*post.size + int(s.Target[c])
					post.iRing[j] = sat(int64(post.iRing[j])+int64(deliver(s.Weight[c], s.Shift, x, n)), n)
					post.iDirty[slot] = true
				}
			}
			continue
		}
		port := int(s.Port)
		for _, i := range p.spiked {
			x := int32(One)
			if p.out != nil {
				x = p.out[i]
			}
			for c := s.Off[i]; c < s.Off[i+1]; c++ {
				d := int(s.Delay[c])
				if (d == 0) != zero {
					continue
				}
				slot := base + d
				if slot >= L {
					slot -= L
				}
				row := slot*post.ports + port
				j := row*post.size + int(s.Target[c])
				post.wRing[j] = sat(int64(post.wRing[j])+int64(deliver(s.Weight[c], s.Shift, x, n)), n)
				post.wDirty[row] = true
			}
		}
	}
}

// emit computes a generator's step-k output and the list of its units
// with a nonzero spike output.
func (e *Engine) emit(p *pop, idx int, k int64) {
	out := p.out
	p.spiked = p.spiked[:0]
	ip := p.img
	active := k >= ip.Win.First && k < ip.Win.End
	switch p.kind {
	case image.KindDC:
		if active {
			copy(out, p.par[image.DCAmp])
		} else {
			clear(out)
		}
	case image.KindPoisson:
		if !active {
			clear(out)
			break
		}
		lam, expNeg := p.par[image.PoissonLambda], p.par[image.PoissonExpNeg]
		lam = lam[:len(out)]
		expNeg = expNeg[:len(out)]
		for i := range out {
			u := int64(draw(&p.rng) >> 2)
			l := int64(lam[i])
			pr := int64(expNeg[i])
			f := pr
			n := int64(0)
			for u >= f && pr > 0 && pr <= 1<<30 && n < MaxPoisson {
				n++
				pr = (pr*l + n<<15) / (n << 16)
				f += pr
			}
			out[i] = int32(n << 16)
		}
	case image.KindBernoulli:
		if !active {
			clear(out)
			break
		}
		prob := p.par[image.BernoulliProb][:len(out)]
		for i := range out {
			out[i] = 0
			if int32(draw(&p.rng)>>2) < prob[i] {
				out[i] = One
			}
		}
	case image.KindSpike:
		for u := range out {
			out[u] = 0
			j := p.next[u]
			end := ip.SpikeOff[u+1]
			for j < end && ip.SpikeStep[j] < k {
				j++ // steps never run (not expected when stepping from 0)
			}
			var v int64
			for j < end && ip.SpikeStep[j] == k {
				v += int64(ip.SpikeVal[j])
				j++
			}
			out[u] = sat(v, &p.sat)
			p.next[u] = j
		}
	case image.KindCustom:
		j := k - p.k0
		nrows := int64(len(p.rows) / p.rowWidth)
		if !active || j < 0 || j >= nrows {
			clear(out)
			break
		}
		row := p.rows[int(j)*p.rowWidth : (int(j)+1)*p.rowWidth]
		if p.rowWidth == 1 {
			for i := range out {
				out[i] = row[0]
			}
		} else {
			copy(out, row)
		}
	case image.KindInput:
		if p.hasIn {
			copy(out, p.in)
			p.hasIn = false
		} else {
			clear(out)
		}
	}
	if p.flags&image.FlagCurrent != 0 {
		return
	}
	binary := p.flags&image.FlagBinary != 0
	for i, x := range out {
		if x != 0 {
			if binary {
				out[i] = One
			}
			p.spiked = append(p.spiked, uint32(i))
		}
	}
}

// afterSpike is the reset of a potential y at a spike.
func afterSpike(p *pop, y int32, reset int32) int32 {
	if p.flags&image.FlagSoftReset != 0 {
		return sat(int64(y)-int64(reset), &p.sat)
	}
	return reset
}

// stepLIF is image.KindLIF's step: w the arriving weights (nil: none),
// cur the current input (nil: none).
func stepLIF(p *pop, w, cur []int32) {
	c33, c30 := p.coef[image.LIFP33], p.coef[image.LIFP30]
	// A factor in [0, 1] cannot take a product out of int32, so without
	// input the terms' clamps are skipped: the same bits
	// (TestLIFFastPath), one multiply-add pair per neuron.
	if !unitBound(c33) || !unitBound(c30) || w != nil || cur != nil {
		stepLIFGeneral(p, w, cur)
		return
	}
	n := p.size
	y := p.st[:n]
	ref, ie := p.ref[:len(y)], p.par[image.LIFIe][:len(y)]
	th, reset := p.cons[image.LIFTh], p.cons[image.LIFReset]
	// Shifts masked to 0..63 (they are 0..62) so that the compiler emits
	// a bare shift.
	m33, s33, h33 := int64(c33.M), uint(c33.Shift)&63, half(c33.Shift)
	m30, s30, h30 := int64(c30.M), uint(c30.Shift)&63, half(c30.Shift)
	refSteps := int32(p.img.RefSteps)
	var ns uint64
	if p.flat {
		// One I_e for all: its term is the same for every neuron.
		d := (m30*int64(ie[0]) + h30) >> s30
		for i, yi := range y {
			if r := ref[i]; r > 0 {
				ref[i] = r - 1
			} else {
				v := (m33*int64(yi)+h33)>>s33 + d
				if v != int64(int32(v)) {
					v = int64(sat(v, &ns))
				}
				yi = int32(v)
				y[i] = yi
			}
			if yi >= th {
				y[i] = afterSpike(p, yi, reset)
				ref[i] = refSteps
				p.spiked = append(p.spiked, uint32(i))
			}
		}
		p.sat += ns
		return
	}
	for i, yi := range y {
		if r := ref[i]; r > 0 {
			ref[i] = r - 1
		} else {
			v := (m33*int64(yi)+h33)>>s33 + (m30*int64(ie[i])+h30)>>s30
			if v != int64(int32(v)) {
				v = int64(sat(v, &ns))
			}
			yi = int32(v)
			y[i] = yi
		}
		if yi >= th {
			y[i] = afterSpike(p, yi, reset)
			ref[i] = refSteps
			p.spiked = append(p.spiked, uint32(i))
		}
	}
	p.sat += ns
}

// unitBound says whether 0 <= c <= 1, so that round(c·x) stays in
// int32 for every int32 x (a negative factor could turn MinInt32 into
// 2^31).
func unitBound(c image.Coef) bool {
	return c.M >= 0 && int64(c.M) <= int64(1)<<c.Shift
}

// stepLIFGeneral is stepLIF with input and with any factors.
func stepLIFGeneral(p *pop, w, cur []int32) {
	n := p.size
	y, ref := p.st[:n], p.ref[:n]
	ie := p.par[image.LIFIe][:n]
	c33, c30 := p.coef[image.LIFP33], p.coef[image.LIFP30]
	th, reset := p.cons[image.LIFTh], p.cons[image.LIFReset]
	refSteps := int32(p.img.RefSteps)
	if w != nil {
		w = w[:n]
	}
	if cur != nil {
		cur = cur[:n]
	}
	var ns uint64
	for i := range y {
		if ref[i] > 0 {
			ref[i]--
		} else {
			in := ie[i]
			if cur != nil {
				in = sat(int64(in)+int64(cur[i]), &ns)
			}
			v := int64(mul(c33, y[i], &ns)) + int64(mul(c30, in, &ns))
			if w != nil {
				v += int64(w[i])
			}
			y[i] = sat(v, &ns)
		}
		if y[i] >= th {
			y[i] = afterSpike(p, y[i], reset)
			ref[i] = refSteps
			p.spiked = append(p.spiked, uint32(i))
		}
	}
	p.sat += ns
}

// stepExpLIF is image.KindExpLIF's step, one pass per neuron: the
// membrane from the currents at t_k, then every port's current (also
// while refractory), then the threshold test. Each neuron's update reads
// only its own values, so this is the order of image.go's text.
func stepExpLIF(e *Engine, p *pop, slot int, cur []int32) {
	n := p.size
	y, ref := p.st[:n], p.ref[:n]
	ie := p.par[image.ExpLIFIe][:n]
	c22, c20 := fc(p.coef[image.ExpLIFP22]), fc(p.coef[image.ExpLIFP20])
	th, reset := p.cons[image.ExpLIFTh], p.cons[image.ExpLIFReset]
	ports := p.ports
	var c11, c21 [image.MaxPorts]fcoef
	var is, w [image.MaxPorts][]int32
	for r := 0; r < ports; r++ {
		c11[r], c21[r] = fc(p.coef[image.ExpLIFPort+2*r]), fc(p.coef[image.ExpLIFPort+2*r+1])
		is[r] = p.st[(1+r)*n : (2+r)*n]
		w[r] = e.wRow(p, slot, r)
	}
	if cur != nil {
		cur = cur[:n]
	}
	if ports == 2 {
		stepExpLIF2(p, c22, c20, c11, c21, is, w, cur)
		return
	}
	refSteps := int32(p.img.RefSteps)
	var ns uint64
	for i := range y {
		if ref[i] > 0 {
			ref[i]--
		} else {
			in := ie[i]
			if cur != nil {
				in = sat(int64(in)+int64(cur[i]), &ns)
			}
			v := int64(c22.mul(y[i], &ns)) + int64(c20.mul(in, &ns))
			for r := 0; r < ports; r++ {
				v += int64(c21[r].mul(is[r][i], &ns))
			}
			y[i] = sat(v, &ns)
		}
		for r := 0; r < ports; r++ {
			v := int64(c11[r].mul(is[r][i], &ns))
			if w[r] != nil {
				v += int64(w[r][i])
			}
			is[r][i] = sat(v, &ns)
		}
		if y[i] >= th {
			y[i] = afterSpike(p, y[i], reset)
			ref[i] = refSteps
			p.spiked = append(p.spiked, uint32(i))
		}
	}
	p.sat += ns
}

// stepExpLIF2 is stepExpLIF's loop for two ports (excitatory and
// inhibitory, as CUBA has), with the ports in locals: the same
// operations in the same order.
func stepExpLIF2(p *pop, c22, c20 fcoef, c11, c21 [image.MaxPorts]fcoef, is, w [image.MaxPorts][]int32, cur []int32) {
	n := p.size
	y := p.st[:n]
	ref, ie := p.ref[:len(y)], p.par[image.ExpLIFIe][:len(y)]
	i0, i1 := is[0][:len(y)], is[1][:len(y)]
	w0, w1 := w[0], w[1]
	if w0 != nil {
		w0 = w0[:len(y)]
	}
	if w1 != nil {
		w1 = w1[:len(y)]
	}
	a0, a1, b0, b1 := c11[0], c11[1], c21[0], c21[1]
	th, reset := p.cons[image.ExpLIFTh], p.cons[image.ExpLIFReset]
	refSteps := int32(p.img.RefSteps)
	var ns uint64
	if c22.unit() && c20.unit() && a0.unit() && a1.unit() && b0.unit() && b1.unit() {
		// Every factor in [0, 1]: no product term can leave int32
		// (unitBound), so only the sums are clamped. The same bits. With
		// one I_e for all and no current, its term is formed once.
		d, flat := c20.raw(ie[0]), p.flat && cur == nil
		for i := range y {
			x0, x1 := i0[i], i1[i]
			if ref[i] > 0 {
				ref[i]--
			} else {
				v := c22.raw(y[i]) + b0.raw(x0) + b1.raw(x1)
				if flat {
					v += d
				} else {
					in := ie[i]
					if cur != nil {
						in = sat(int64(in)+int64(cur[i]), &ns)
					}
					v += c20.raw(in)
				}
				if v != int64(int32(v)) {
					v = int64(sat(v, &ns))
				}
				y[i] = int32(v)
			}
			v0, v1 := a0.raw(x0), a1.raw(x1)
			if w0 != nil {
				v0 += int64(w0[i])
			}
			if w1 != nil {
				v1 += int64(w1[i])
			}
			i0[i], i1[i] = sat(v0, &ns), sat(v1, &ns)
			if y[i] >= th {
				y[i] = afterSpike(p, y[i], reset)
				ref[i] = refSteps
				p.spiked = append(p.spiked, uint32(i))
			}
		}
		p.sat += ns
		return
	}
	for i := range y {
		x0, x1 := i0[i], i1[i]
		if ref[i] > 0 {
			ref[i]--
		} else {
			in := ie[i]
			if cur != nil {
				in = sat(int64(in)+int64(cur[i]), &ns)
			}
			v := int64(c22.mul(y[i], &ns)) + int64(c20.mul(in, &ns)) + int64(b0.mul(x0, &ns)) + int64(b1.mul(x1, &ns))
			y[i] = sat(v, &ns)
		}
		v0, v1 := int64(a0.mul(x0, &ns)), int64(a1.mul(x1, &ns))
		if w0 != nil {
			v0 += int64(w0[i])
		}
		if w1 != nil {
			v1 += int64(w1[i])
		}
		i0[i], i1[i] = sat(v0, &ns), sat(v1, &ns)
		if y[i] >= th {
			y[i] = afterSpike(p, y[i], reset)
			ref[i] = refSteps
			p.spiked = append(p.spiked, uint32(i))
		}
	}
	p.sat += ns
}

// stepIzh is image.KindIzhikevich's step (forward Euler from the values
// at the start of the step).
func stepIzh(p *pop, w, cur []int32) {
	n := p.size
	vs, us := p.st[:n], p.st[n:2*n]
	ie := p.par[image.IzhIe][:n]
	cA := p.coef[image.IzhA]
	cB, cH, cHA, cBu := fc(p.coef[image.IzhB]), fc(p.coef[image.IzhH]), fc(p.coef[image.IzhHA]), fc(p.coef[image.IzhBu])
	c, th, reset, d := p.cons[image.IzhC], p.cons[image.IzhTh], p.cons[image.IzhReset], p.cons[image.IzhD]
	sc := &p.sat
	for i := range vs {
		vo, uo := vs[i], us[i]
		in := int64(ie[i]) - int64(uo)
		if cur != nil {
			in += int64(cur[i])
		}
		v := int64(vo) + int64(mulSq(cA, vo, sc)) + int64(cB.mul(vo, sc)) + int64(c) + int64(cH.mul(sat(in, sc), sc))
		if w != nil {
			v += int64(w[i])
		}
		u := int64(uo) + int64(cHA.mul(sat(int64(cBu.mul(vo, sc))-int64(uo), sc), sc))
		nv, nu := sat(v, sc), sat(u, sc)
		if nv >= th {
			nv = reset
			nu = sat(int64(nu)+int64(d), sc)
			p.spiked = append(p.spiked, uint32(i))
		}
		vs[i], us[i] = nv, nu
	}
}

// stepSNN is the step of image.KindSNNIF and image.KindSNNLIF.
func stepSNN(p *pop, w, cur []int32) {
	n := p.size
	vs := p.st[:n]
	th, reset := p.cons[image.SNNTh], p.cons[image.SNNReset]
	lif := p.kind == image.KindSNNLIF
	var cR, cI fcoef
	var rest int32
	if lif {
		cR, cI, rest = fc(p.coef[image.SNNRTau]), fc(p.coef[image.SNNInvTau]), p.cons[image.SNNRest]
	}
	soft := p.flags&image.FlagSoftReset != 0
	sc := &p.sat
	for i := range vs {
		var x int64
		if w != nil {
			x = int64(w[i])
		}
		if cur != nil {
			x += int64(cur[i])
		}
		v := vs[i]
		var h int32
		if lif {
			h = sat(int64(v)+int64(cR.mul(sat(x, sc), sc))-int64(cI.mul(sat(int64(v)-int64(rest), sc), sc)), sc)
		} else {
			h = sat(int64(v)+int64(sat(x, sc)), sc)
		}
		if h >= th {
			if soft {
				h = sat(int64(h)-int64(reset), sc)
			} else {
				h = reset
			}
			p.spiked = append(p.spiked, uint32(i))
		}
		vs[i] = h
	}
}
