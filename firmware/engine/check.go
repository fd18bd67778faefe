package engine

import "github.com/spikeloop/spikeloop/firmware/image"

// Error is a refused image or call: the field (or argument) and its value.
type Error struct {
	Field  string // e.g. "Pops[2].Unit[1]", "v"
	Value  int64
	Reason string
}

func (e *Error) Error() string {
	return "engine: " + e.Field + " = " + itoa(e.Value) + ": " + e.Reason
}

func itoa(v int64) string {
	var b [24]byte
	i := len(b)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u
	}
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

func idx(name string, i int) string { return name + "[" + itoa(int64(i)) + "]" }

// need says how many Coefs, Consts and Unit rows a population of its kind
// must have.
func need(p *image.Pop) (coefs, consts, units int) {
	switch p.Kind {
	case image.KindLIF:
		return image.LIFCoefs, image.LIFConsts, image.LIFUnits
	case image.KindExpLIF:
		return image.ExpLIFCoefs(int(p.Ports)), image.ExpLIFConsts, image.ExpLIFUnits(int(p.Ports))
	case image.KindIzhikevich:
		return image.IzhCoefs, image.IzhConsts, image.IzhUnits
	case image.KindSNNIF:
		return 0, image.SNNIFConsts, image.SNNUnits
	case image.KindSNNLIF:
		return image.SNNLIFCoefs, image.SNNLIFConsts, image.SNNUnits
	case image.KindDC:
		return 0, 0, image.DCUnits
	case image.KindPoisson:
		return 0, 0, image.PoissonUnits
	case image.KindBernoulli:
		return 0, 0, image.BernoulliUnits
	}
	return 0, 0, 0
}

// check refuses what the engine cannot run safely: every index and
// length the engine uses is checked here, after image.Validate, so that
// Step never reads out of range even if Validate's rules change.
func check(img *image.Image) error {
	if len(img.Pops) == 0 {
		return &Error{"Pops", 0, "no population"}
	}
	for i := range img.Pops {
		p := &img.Pops[i]
		f := idx("Pops", i)
		switch p.Kind {
		case image.KindLIF, image.KindIzhikevich, image.KindSNNIF, image.KindSNNLIF,
			image.KindDC, image.KindPoisson, image.KindBernoulli, image.KindSpike, image.KindCustom, image.KindInput:
		case image.KindExpLIF:
			if p.Ports < 1 || p.Ports > image.MaxPorts {
				return &Error{f + ".Ports", int64(p.Ports), "want 1..8 for ExpLIF"}
			}
		default:
			return &Error{f + ".Kind", int64(p.Kind), "not a kind the engine runs"}
		}
		if p.Size < 1 || p.Size > 1<<28 {
			return &Error{f + ".Size", int64(p.Size), "want 1..2^28"}
		}
		if p.RefSteps > maxInt32 {
			return &Error{f + ".RefSteps", int64(p.RefSteps), "above 2^31-1"}
		}
		nc, nk, nu := need(p)
		if len(p.Coefs) < nc {
			return &Error{f + ".Coefs", int64(len(p.Coefs)), "too few for its kind, want " + itoa(int64(nc))}
		}
		for j, c := range p.Coefs {
			if c.Shift > image.MaxCoefShift {
				return &Error{f + "." + idx("Coefs", j) + ".Shift", int64(c.Shift), "want 0..62"}
			}
		}
		if len(p.Consts) < nk {
			return &Error{f + ".Consts", int64(len(p.Consts)), "too few for its kind, want " + itoa(int64(nk))}
		}
		if len(p.Unit) < nu {
			return &Error{f + ".Unit", int64(len(p.Unit)), "too few rows for its kind, want " + itoa(int64(nu))}
		}
		for r, row := range p.Unit[:nu] {
			if len(row) != int(p.Size) {
				return &Error{f + "." + idx("Unit", r), int64(len(row)), "want Size values"}
			}
		}
		switch p.Kind {
		case image.KindPoisson:
			if err := checkPoisson(f, p.Unit[image.PoissonLambda], p.Unit[image.PoissonExpNeg]); err != nil {
				return err
			}
		case image.KindSpike:
			if len(p.SpikeOff) != int(p.Size)+1 || p.SpikeOff[0] != 0 {
				return &Error{f + ".SpikeOff", int64(len(p.SpikeOff)), "want Size+1 offsets from 0"}
			}
			for u := 0; u < int(p.Size); u++ {
				if p.SpikeOff[u+1] < p.SpikeOff[u] {
					return &Error{f + "." + idx("SpikeOff", u+1), int64(p.SpikeOff[u+1]), "offsets descend"}
				}
			}
			if n := int(p.SpikeOff[p.Size]); n != len(p.SpikeStep) || n != len(p.SpikeVal) {
				return &Error{f + ".SpikeOff[Size]", int64(n), "not the length of SpikeStep and SpikeVal"}
			}
		case image.KindCustom:
			if p.RowWidth != 1 && p.RowWidth != p.Size {
				return &Error{f + ".RowWidth", int64(p.RowWidth), "want 1 or Size"}
			}
			if len(p.Rows)%int(p.RowWidth) != 0 {
				return &Error{f + ".Rows", int64(len(p.Rows)), "not a multiple of RowWidth"}
			}
		}
	}
	for si := range img.Synapses {
		s := &img.Synapses[si]
		f := idx("Synapses", si)
		if int(s.Pre) >= len(img.Pops) {
			return &Error{f + ".Pre", int64(s.Pre), "no such population"}
		}
		if int(s.Post) >= len(img.Pops) {
			return &Error{f + ".Post", int64(s.Post), "no such population"}
		}
		pre, post := &img.Pops[s.Pre], &img.Pops[s.Post]
		if post.Kind.IsGenerator() {
			return &Error{f + ".Post", int64(s.Post), "a generator receives nothing"}
		}
		ports := 1
		if post.Kind == image.KindExpLIF {
			ports = int(post.Ports)
		}
		if int(s.Port) >= ports || (pre.Flags&image.FlagCurrent != 0 && s.Port != 0) {
			return &Error{f + ".Port", int64(s.Port), "no such receptor port of Post"}
		}
		if s.Shift > image.MaxWeightShift {
			return &Error{f + ".Shift", int64(s.Shift), "want 0..16"}
		}
		if len(s.Off) != int(pre.Size)+1 || s.Off[0] != 0 {
			return &Error{f + ".Off", int64(len(s.Off)), "want Pre's Size+1 offsets from 0"}
		}
		for u := 0; u < int(pre.Size); u++ {
			if s.Off[u+1] < s.Off[u] {
				return &Error{f + "." + idx("Off", u+1), int64(s.Off[u+1]), "offsets descend"}
			}
		}
		n := int(s.Off[pre.Size])
		if n != len(s.Target) || n != len(s.Weight) || n != len(s.Delay) {
			return &Error{f + ".Off[Size]", int64(n), "not the length of Target, Weight and Delay"}
		}
		zeroOK := post.Kind == image.KindSNNIF || post.Kind == image.KindSNNLIF
		for c := 0; c < n; c++ {
			if s.Target[c] >= post.Size {
				return &Error{f + "." + idx("Target", c), int64(s.Target[c]), "no such unit of Post"}
			}
			if s.Delay[c] > image.MaxDelay {
				return &Error{f + "." + idx("Delay", c), int64(s.Delay[c]), "above MaxDelay"}
			}
			if s.Delay[c] == 0 && (!zeroOK || !pre.Kind.IsGenerator() && s.Post <= s.Pre) {
				return &Error{f + "." + idx("Delay", c), 0, "delay 0 only into SNNIF and SNNLIF, from a generator or a population of lower index"}
			}
		}
	}
	for mi := range img.Monitors {
		m := &img.Monitors[mi]
		f := idx("Monitors", mi)
		if int(m.Pop) >= len(img.Pops) {
			return &Error{f + ".Pop", int64(m.Pop), "no such population"}
		}
		p := &img.Pops[m.Pop]
		if m.Every < 1 {
			return &Error{f + ".Every", int64(m.Every), "want >= 1"}
		}
		ns := states(p)
		if p.Kind.IsGenerator() {
			ns = 1
		}
		for j, s := range m.States {
			if int(s) >= ns {
				return &Error{f + "." + idx("States", j), int64(s), "no such state of the population's kind"}
			}
		}
		for j, u := range m.Units {
			if u >= p.Size {
				return &Error{f + "." + idx("Units", j), int64(u), "no such unit"}
			}
		}
	}
	return nil
}

func checkPoisson(f string, lambda, expNeg []int32) error {
	for u, l := range lambda {
		if l < 0 {
			return &Error{f + ".Unit[Lambda][" + itoa(int64(u)) + "]", int64(l), "negative rate"}
		}
	}
	for u, x := range expNeg {
		if x < 0 || x > 1<<30 {
			return &Error{f + ".Unit[ExpNeg][" + itoa(int64(u)) + "]", int64(x), "want 0..2^30 (Q1.30)"}
		}
	}
	return nil
}
