package engine

// The random streams (package doc): SplitMix64, one stream per
// population.

const golden = 0x9E3779B97F4A7C15

// mix is SplitMix64's output function.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// streamSeed is population p's initial state under the image's seed.
func streamSeed(seed, p uint64) uint64 { return mix(seed ^ mix(p+1)) }

// draw advances a stream and returns its next 32-bit number.
func draw(state *uint64) uint32 {
	*state += golden
	return uint32(mix(*state) >> 32)
}
