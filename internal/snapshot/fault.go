package snapshot

import (
	"errors"
	"runtime/debug"
)

// errFileChanged is the error for a mapped snapshot that shrank while it
// was being decoded.
var errFileChanged = errors.New("the file shrank while it was being read; audit it again once it is complete")

// guardFaults makes a memory fault in the calling goroutine (a mapped
// file truncated under it) panic instead of crashing the process, and
// turns that panic into errFileChanged in *err. Use as
//
//	defer guardFaults(mapped, &err)()
func guardFaults(on bool, err *error) func() {
	if !on {
		return func() {}
	}
	old := debug.SetPanicOnFault(true)
	return func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			if e, ok := r.(interface{ Addr() uintptr }); ok && e != nil {
				*err = errFileChanged
				return
			}
			panic(r)
		}
	}
}
