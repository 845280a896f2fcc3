package snapshot

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// mapMin is the size from which a snapshot is mapped rather than read.
const mapMin = 1 << 20

// readInput returns the contents of a file and a function to call once
// they are no longer needed. A large regular file is mapped read-only
// instead of copied: an Organization's snapshot is tens of megabytes, and
// copying it into fresh memory costs more than decoding half of it. A
// mapped file that another process truncates makes the next read of the
// lost pages fault; the decoder turns such a fault into an error (see
// guardFaults), and nothing decoded refers to the mapping, which release
// unmaps.
func readInput(path string) (data []byte, mapped bool, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, nil, err
	}
	size := fi.Size()
	if !fi.Mode().IsRegular() || size > 1<<40 {
		data, err = io.ReadAll(f)
		return data, false, func() {}, err
	}
	if size >= mapMin {
		mem, err := syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ, syscall.MAP_SHARED)
		if err == nil {
			_ = syscall.Madvise(mem, syscall.MADV_WILLNEED) // advice only
			return mem, true, func() { _ = syscall.Munmap(mem) }, nil
		}
		// Fall back to reading, as for a small file.
	}
	data = make([]byte, size)
	if _, err := io.ReadFull(f, data); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			err = fmt.Errorf("file shrank below its size of %d bytes while being read", size)
		}
		return nil, false, nil, err
	}
	return data, false, func() {}, nil
}
