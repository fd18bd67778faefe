package image

// Validate checks every field of img: the version, each population's
// kind, flags, ports, size and the lengths of its Coefs, Consts and Unit
// rows (by the index constants of its kind), the fields its kind does
// not use (zero or empty), shifts, windows, the Spike and Custom tables,
// each synapse entry's populations, port, shift, CSR offsets, targets
// and delays, and each monitor's population, states, units and period.
// The first problem found is returned as an *Error naming the field.
//
// Validate never panics and indexes only within the slices it was
// given, so the engine can trust a validated image without checks of
// its own in the step loop. Beyond the types' doc comments it requires:
//
//   - fields a kind does not use are zero or empty (RefSteps outside
//     LIF and ExpLIF, Win outside DC, Poisson, Bernoulli and Custom
//     (Spike's steps are its own, Input is the host's), the Spike
//     and Custom tables outside their kinds, Ports of generators);
//   - a DCGenerator has FlagCurrent; FlagBinary and FlagCurrent never
//     together; FlagSoftReset on LIF, ExpLIF, SNNIF and SNNLIF only;
//   - Poisson's Lambda >= 0 and ExpNeg in 1..1<<30, Bernoulli's Prob in
//     0..1<<30;
//   - the Spike table's steps strictly ascending per unit (equal times
//     are merged into one value, as the CPU engine does);
//   - only neuron populations receive synapses; a zero delay goes into
//     SNNIF or SNNLIF only, and from a neuron population only to one of
//     higher index (the engine updates neurons in index order);
//   - a monitor's States index the kind's state list (LIF [y], ExpLIF
//     [y, I_0, ...], Izhikevich [V, u], SNNIF and SNNLIF [v], DC and a
//     current-mode Input [out]; other generators none); empty Units
//     means every unit.
func Validate(img *Image) error {
	if img == nil {
		return fail("image", "nil")
	}
	if img.Version != Version {
		return fail("version", itoa(int64(img.Version))+", want "+itoa(Version))
	}
	if uint64(len(img.Pops)) > maxCount || uint64(len(img.Synapses)) > maxCount || uint64(len(img.Monitors)) > maxCount {
		return fail("image", "more than 2^32-1 populations, synapse entries or monitors")
	}
	for i := range img.Pops {
		if err := validatePop(&img.Pops[i], path{"pops", i}); err != nil {
			return err
		}
	}
	for i := range img.Synapses {
		if err := validateSynapse(img, &img.Synapses[i], path{"synapses", i}); err != nil {
			return err
		}
	}
	for i := range img.Monitors {
		if err := validateMonitor(img, &img.Monitors[i], path{"monitors", i}); err != nil {
			return err
		}
	}
	return nil
}

// maxCount is the largest count the format's 32-bit counters hold.
const maxCount = 1<<32 - 1

// layout is what a kind's population holds.
type layout struct {
	coefs, consts, units int
	flags                Flags // allowed
	windowed             bool  // uses Win
	refractory           bool  // uses RefSteps
}

// layoutOf gives the layout of p's kind; ok is false for an unknown kind.
func layoutOf(p *Pop) (l layout, ok bool) {
	switch p.Kind {
	case KindLIF:
		return layout{coefs: LIFCoefs, consts: LIFConsts, units: LIFUnits, flags: FlagSoftReset, refractory: true}, true
	case KindExpLIF:
		ports := int(p.Ports)
		return layout{coefs: ExpLIFCoefs(ports), consts: ExpLIFConsts, units: ExpLIFUnits(ports), flags: FlagSoftReset, refractory: true}, true
	case KindIzhikevich:
		return layout{coefs: IzhCoefs, consts: IzhConsts, units: IzhUnits}, true
	case KindSNNIF:
		return layout{coefs: 0, consts: SNNIFConsts, units: SNNUnits, flags: FlagSoftReset}, true
	case KindSNNLIF:
		return layout{coefs: SNNLIFCoefs, consts: SNNLIFConsts, units: SNNUnits, flags: FlagSoftReset}, true
	case KindDC:
		return layout{units: DCUnits, flags: FlagCurrent, windowed: true}, true
	case KindPoisson:
		return layout{units: PoissonUnits, flags: FlagBinary, windowed: true}, true
	case KindBernoulli:
		return layout{units: BernoulliUnits, flags: FlagBinary, windowed: true}, true
	case KindSpike:
		return layout{flags: FlagBinary}, true // its steps are its own: no window
	case KindCustom:
		return layout{flags: FlagBinary, windowed: true}, true
	case KindInput:
		return layout{flags: FlagBinary | FlagCurrent}, true
	}
	return layout{}, false
}

// States is the number of states a monitor can sample from population
// p (the length of its kind's state list, see Monitor).
func States(p *Pop) int {
	switch p.Kind {
	case KindLIF, KindSNNIF, KindSNNLIF:
		return 1
	case KindExpLIF:
		return 1 + int(p.Ports)
	case KindIzhikevich:
		return 2
	case KindDC, KindInput:
		if p.Flags&FlagCurrent != 0 {
			return 1
		}
	}
	return 0
}

func validatePop(p *Pop, f path) error {
	l, ok := layoutOf(p)
	if !ok {
		return fail(f.f(".kind"), itoa(int64(p.Kind))+" is no kind the APU runs")
	}
	name := KindName(p.Kind)
	for bit := Flags(1); bit != 0; bit <<= 1 {
		if p.Flags&bit != 0 && l.flags&bit == 0 {
			return fail(f.f(".flags"), "flag "+flagName(bit)+" not allowed for "+name)
		}
	}
	if p.Kind == KindDC && p.Flags&FlagCurrent == 0 {
		return fail(f.f(".flags"), "DCGenerator needs flag current")
	}
	if p.Flags&FlagBinary != 0 && p.Flags&FlagCurrent != 0 {
		return fail(f.f(".flags"), "flags binary and current together")
	}
	switch {
	case p.Kind == KindExpLIF:
		if p.Ports < 1 || p.Ports > MaxPorts {
			return fail(f.f(".ports"), itoa(int64(p.Ports))+" out of range 1.."+itoa(MaxPorts)+" for ExpLIF")
		}
	case p.Kind.IsGenerator():
		if p.Ports != 0 {
			return fail(f.f(".ports"), itoa(int64(p.Ports))+", want 0 for "+name)
		}
	default:
		if p.Ports != 1 {
			return fail(f.f(".ports"), itoa(int64(p.Ports))+", want 1 for "+name)
		}
	}
	if p.Size < 1 {
		return fail(f.f(".size"), "0, want at least 1")
	}
	if !l.refractory && p.RefSteps != 0 {
		return fail(f.f(".ref_steps"), itoa(int64(p.RefSteps))+", want 0 for "+name)
	}
	if len(p.Coefs) != l.coefs {
		return fail(f.f(".coefs"), lengthReason(len(p.Coefs), int64(l.coefs))+" for "+name)
	}
	for j, c := range p.Coefs {
		if c.Shift > MaxCoefShift {
			return fail(at(f.f(".coefs"), j)+".shift", itoa(int64(c.Shift))+" out of range 0.."+itoa(MaxCoefShift))
		}
	}
	if len(p.Consts) != l.consts {
		return fail(f.f(".consts"), lengthReason(len(p.Consts), int64(l.consts))+" for "+name)
	}
	if len(p.Unit) != l.units {
		return fail(f.f(".unit"), lengthReason(len(p.Unit), int64(l.units))+" rows for "+name)
	}
	size := int64(p.Size)
	for r, row := range p.Unit {
		if int64(len(row)) != size {
			return fail(at(f.f(".unit"), r), lengthReason(len(row), size)+" (size)")
		}
	}
	if err := validateUnitValues(p, f); err != nil {
		return err
	}
	if l.windowed {
		if p.Win.First > p.Win.End {
			return fail(f.f(".win"), "first "+itoa(p.Win.First)+" after end "+itoa(p.Win.End))
		}
	} else if p.Win != (Window{}) {
		return fail(f.f(".win"), "set for "+name+", which has no window")
	}
	if p.Kind == KindSpike {
		if err := validateSpikes(p, f); err != nil {
			return err
		}
	} else if len(p.SpikeOff) != 0 || len(p.SpikeStep) != 0 || len(p.SpikeVal) != 0 {
		return fail(f.f(".spike_off"), "spike table set for "+name+", only SpikeGenerator has one")
	}
	if p.Kind == KindCustom {
		if p.RowWidth != 1 && p.RowWidth != p.Size {
			return fail(f.f(".row_width"), itoa(int64(p.RowWidth))+", want 1 or the size "+itoa(size))
		}
		if int64(len(p.Rows))%int64(p.RowWidth) != 0 {
			return fail(f.f(".rows"), "length "+itoa(int64(len(p.Rows)))+" is no multiple of the row width "+itoa(int64(p.RowWidth)))
		}
	} else if p.RowWidth != 0 || p.K0 != 0 || len(p.Rows) != 0 {
		return fail(f.f(".rows"), "rows set for "+name+", only CustomGenerator has them")
	}
	return nil
}

// validateUnitValues checks the generators' per-unit values that have a
// range (probabilities, rates).
func validateUnitValues(p *Pop, f path) error {
	check := func(r int, lo, hi int32, what string) error {
		for i, v := range p.Unit[r] {
			if v < lo || v > hi {
				return fail(at(at(f.f(".unit"), r), i), itoa(int64(v))+" out of range "+itoa(int64(lo))+".."+itoa(int64(hi))+" ("+what+")")
			}
		}
		return nil
	}
	const one30 = 1 << 30
	switch p.Kind {
	case KindPoisson:
		if err := check(PoissonLambda, 0, 1<<31-1, "lambda"); err != nil {
			return err
		}
		// ExpNeg 0 would be a rate beyond what Q1.30 holds (lambda above
		// about 20.8): the inversion could never stop at it.
		return check(PoissonExpNeg, 1, one30, "exp(-lambda) in Q1.30")
	case KindBernoulli:
		return check(BernoulliProb, 0, one30, "probability in Q1.30")
	}
	return nil
}

func validateSpikes(p *Pop, f path) error {
	size := int64(p.Size)
	if int64(len(p.SpikeOff)) != size+1 {
		return fail(f.f(".spike_off"), lengthReason(len(p.SpikeOff), size+1)+" (size+1)")
	}
	if len(p.SpikeVal) != len(p.SpikeStep) {
		return fail(f.f(".spike_val"), lengthReason(len(p.SpikeVal), int64(len(p.SpikeStep)))+" (spike_step's)")
	}
	if p.SpikeOff[0] != 0 {
		return fail(f.f(".spike_off[0]"), itoa(int64(p.SpikeOff[0]))+", want 0")
	}
	n := uint64(len(p.SpikeStep))
	for u := 0; u < len(p.SpikeOff)-1; u++ {
		lo, hi := p.SpikeOff[u], p.SpikeOff[u+1]
		if hi < lo {
			return fail(at(f.f(".spike_off"), u+1), itoa(int64(hi))+" below the previous offset "+itoa(int64(lo)))
		}
		if uint64(hi) > n {
			return fail(at(f.f(".spike_off"), u+1), itoa(int64(hi))+" beyond spike_step's length "+utoa(n))
		}
		for j := int(lo) + 1; j < int(hi); j++ {
			if p.SpikeStep[j] <= p.SpikeStep[j-1] {
				return fail(at(f.f(".spike_step"), j), itoa(p.SpikeStep[j])+" not after "+itoa(p.SpikeStep[j-1])+" (unit "+itoa(int64(u))+")")
			}
		}
	}
	if last := p.SpikeOff[len(p.SpikeOff)-1]; uint64(last) != n {
		return fail(at(f.f(".spike_off"), len(p.SpikeOff)-1), itoa(int64(last))+", want spike_step's length "+utoa(n))
	}
	return nil
}

func validateSynapse(img *Image, s *Synapse, f path) error {
	npops := uint64(len(img.Pops))
	if uint64(s.Pre) >= npops {
		return fail(f.f(".pre"), utoa(uint64(s.Pre))+" out of range ("+utoa(npops)+" populations)")
	}
	if uint64(s.Post) >= npops {
		return fail(f.f(".post"), utoa(uint64(s.Post))+" out of range ("+utoa(npops)+" populations)")
	}
	pre, post := &img.Pops[s.Pre], &img.Pops[s.Post]
	if post.Kind.IsGenerator() {
		return fail(f.f(".post"), utoa(uint64(s.Post))+" is a "+KindName(post.Kind)+", which receives nothing")
	}
	if pre.Flags&FlagCurrent != 0 {
		if s.Port != 0 {
			return fail(f.f(".port"), itoa(int64(s.Port))+", want 0 from the current source "+utoa(uint64(s.Pre)))
		}
	} else if s.Port >= post.Ports {
		return fail(f.f(".port"), itoa(int64(s.Port))+" out of range (post has "+itoa(int64(post.Ports))+" ports)")
	}
	if s.Shift > MaxWeightShift {
		return fail(f.f(".shift"), itoa(int64(s.Shift))+" out of range 0.."+itoa(MaxWeightShift))
	}
	if want := int64(pre.Size) + 1; int64(len(s.Off)) != want {
		return fail(f.f(".off"), lengthReason(len(s.Off), want)+" (pre size+1)")
	}
	n := uint64(len(s.Target))
	if len(s.Weight) != len(s.Target) {
		return fail(f.f(".weight"), lengthReason(len(s.Weight), int64(n))+" (target's)")
	}
	if len(s.Delay) != len(s.Target) {
		return fail(f.f(".delay"), lengthReason(len(s.Delay), int64(n))+" (target's)")
	}
	if s.Off[0] != 0 {
		return fail(f.f(".off[0]"), itoa(int64(s.Off[0]))+", want 0")
	}
	for i := 1; i < len(s.Off); i++ {
		if s.Off[i] < s.Off[i-1] {
			return fail(at(f.f(".off"), i), itoa(int64(s.Off[i]))+" below the previous offset "+itoa(int64(s.Off[i-1])))
		}
	}
	if last := s.Off[len(s.Off)-1]; uint64(last) != n {
		return fail(at(f.f(".off"), len(s.Off)-1), itoa(int64(last))+", want target's length "+utoa(n))
	}
	for c, t := range s.Target {
		if t >= post.Size {
			return fail(at(f.f(".target"), c), utoa(uint64(t))+" out of range (post size "+utoa(uint64(post.Size))+")")
		}
	}
	zeroOK := (post.Kind == KindSNNIF || post.Kind == KindSNNLIF) && (pre.Kind.IsGenerator() || s.Post > s.Pre)
	for c, d := range s.Delay {
		if d > MaxDelay {
			return fail(at(f.f(".delay"), c), itoa(int64(d))+" out of range 0.."+itoa(MaxDelay))
		}
		if d == 0 && !zeroOK {
			return fail(at(f.f(".delay"), c), "0 allowed only into SNNIF or SNNLIF from a generator or an earlier population (post "+
				utoa(uint64(s.Post))+" is "+KindName(post.Kind)+", pre "+utoa(uint64(s.Pre))+")")
		}
	}
	return nil
}

func validateMonitor(img *Image, m *Monitor, f path) error {
	npops := uint64(len(img.Pops))
	if uint64(m.Pop) >= npops {
		return fail(f.f(".pop"), utoa(uint64(m.Pop))+" out of range ("+utoa(npops)+" populations)")
	}
	p := &img.Pops[m.Pop]
	if m.Every < 1 {
		return fail(f.f(".every"), "0, want at least 1")
	}
	ns := States(p)
	for j, s := range m.States {
		if int(s) >= ns {
			return fail(at(f.f(".states"), j), itoa(int64(s))+" out of range ("+KindName(p.Kind)+" has "+itoa(int64(ns))+" states)")
		}
	}
	for j, u := range m.Units {
		if u >= p.Size {
			return fail(at(f.f(".units"), j), utoa(uint64(u))+" out of range (size "+utoa(uint64(p.Size))+")")
		}
	}
	return nil
}
