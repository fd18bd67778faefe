package models

import (
	"fmt"
	"strings"
)

// DidYouMean returns ` (did you mean "X"?)` for the known name closest
// to a misspelt one, or "" when none is close: the same name in another
// case (lif -> LIF), a known name the given one starts with or that
// starts with it (V_thresh -> V_th), or one within a small edit distance
// (tua -> tau).
func DidYouMean(name string, known []string) string {
	if best := closest(name, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

func closest(name string, known []string) string {
	low := strings.ToLower(name)
	for _, k := range known {
		if strings.ToLower(k) == low {
			return k
		}
	}
	best, bestLen := "", 0
	for _, k := range known {
		kl := strings.ToLower(k)
		if len(kl) >= 3 && len(kl) > bestLen && (strings.HasPrefix(low, kl) || strings.HasPrefix(kl, low) && len(low) >= 3) {
			best, bestLen = k, len(kl)
		}
	}
	if best != "" {
		return best
	}
	limit := max(1, min(3, len(low)/3))
	bestD := limit + 1
	for _, k := range known {
		if d := editDistance(low, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance with adjacent transpositions
// counted as one edit (tua -> tau).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
