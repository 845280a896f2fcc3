//go:build !linux

package snapshot

import "os"

// readInput reads a file into memory.
func readInput(path string) (data []byte, mapped bool, release func(), err error) {
	data, err = os.ReadFile(path)
	return data, false, func() {}, err
}
