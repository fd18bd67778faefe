package engine

import "github.com/spikeloop/spikeloop/firmware/image"

// The host's calls between steps (doc.go).

func (e *Engine) popArg(pop int) (*pop, error) {
	if pop < 0 || pop >= len(e.pops) {
		return nil, &Error{"pop", int64(pop), "no such population"}
	}
	return &e.pops[pop], nil
}

func (e *Engine) setInput(pop int, v []int32) error {
	p, err := e.popArg(pop)
	if err != nil {
		return err
	}
	if p.kind != image.KindInput {
		return &Error{"pop", int64(pop), "not an Input population"}
	}
	if len(v) != p.size {
		return &Error{"len(v)", int64(len(v)), "want the population's size " + itoa(int64(p.size))}
	}
	copy(p.in, v)
	p.hasIn = true
	return nil
}

func (e *Engine) setUnit(pop, row int, v []int32) error {
	p, err := e.popArg(pop)
	if err != nil {
		return err
	}
	if row < 0 || row >= len(p.par) || p.par[row] == nil {
		return &Error{"row", int64(row), "not a parameter row of the population's kind"}
	}
	if len(v) != 1 && len(v) != p.size {
		return &Error{"len(v)", int64(len(v)), "want 1 or the population's size " + itoa(int64(p.size))}
	}
	for _, x := range v {
		switch {
		case p.kind == image.KindPoisson && row == image.PoissonLambda && x < 0:
			return &Error{"v", int64(x), "a negative Poisson lambda"}
		case p.kind == image.KindPoisson && row == image.PoissonExpNeg && (x < 0 || x > 1<<30):
			return &Error{"v", int64(x), "ExpNeg wants 0..2^30 (Q1.30)"}
		}
	}
	dst := p.par[row]
	if len(v) == 1 {
		for i := range dst {
			dst[i] = v[0]
		}
	} else {
		copy(dst, v)
	}
	p.parChanged()
	return nil
}

func (e *Engine) setRows(pop, width int, rows []int32) error {
	p, err := e.popArg(pop)
	if err != nil {
		return err
	}
	if p.kind != image.KindCustom {
		return &Error{"pop", int64(pop), "not a Custom population"}
	}
	if width != 1 && width != p.size {
		return &Error{"width", int64(width), "want 1 or the population's size " + itoa(int64(p.size))}
	}
	if len(rows)%width != 0 {
		return &Error{"len(rows)", int64(len(rows)), "not a multiple of width " + itoa(int64(width))}
	}
	if cap(p.rowsBuf) < len(rows) {
		p.rowsBuf = make([]int32, len(rows))
	}
	p.rowsBuf = p.rowsBuf[:len(rows)]
	copy(p.rowsBuf, rows)
	p.rows, p.rowWidth, p.k0 = p.rowsBuf, width, e.now
	return nil
}

func (e *Engine) state(pop, i int) []int32 {
	if pop < 0 || pop >= len(e.pops) {
		return nil
	}
	p := &e.pops[pop]
	if p.kind.IsGenerator() {
		if i == 0 {
			return p.out
		}
		return nil
	}
	if i < 0 || i >= p.nst {
		return nil
	}
	return p.st[i*p.size : (i+1)*p.size]
}

// sample records trace t's row at stamp, or counts it dropped.
func (e *Engine) sample(t *trace, stamp int64) {
	if len(e.rows) == cap(e.rows) || cap(e.vals)-len(e.vals) < t.n {
		e.dropped++
		return
	}
	src := e.state(t.pop, int(t.state))
	e.rows = append(e.rows, Row{Monitor: t.mon, State: t.state, N: uint32(t.n), Stamp: stamp})
	if t.units == nil {
		e.vals = append(e.vals, src...)
		return
	}
	for _, u := range t.units {
		e.vals = append(e.vals, src[u])
	}
}
