package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// The console sets its garbage collector's pace and memory limit, unless
// the operator set GOGC or GOMEMLIMIT, which win.
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	tuneGC(getenv)
	if p := debug.SetGCPercent(100); p != gcPercent {
		t.Errorf("GC percent %d, want %d", p, gcPercent)
	}
	if l := debug.SetMemoryLimit(math.MaxInt64); l != gcMemoryLimit() {
		t.Errorf("memory limit %d, want %d", l, gcMemoryLimit())
	}
	// 48 MiB on 2 cores (one hash at a time), 19 MiB more per further core.
	if want := int64(29<<20) + int64(max(1, runtime.NumCPU()-1))*19<<20; gcMemoryLimit() != want {
		t.Errorf("memory limit %d with %d cores, want %d", gcMemoryLimit(), runtime.NumCPU(), want)
	}

	env["GOGC"], env["GOMEMLIMIT"] = "150", "1GiB"
	tuneGC(getenv)
	if p := debug.SetGCPercent(100); p != 100 {
		t.Errorf("GC percent %d with GOGC set, want it left at 100", p)
	}
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		t.Errorf("memory limit %d with GOMEMLIMIT set, want it left alone", l)
	}
}
