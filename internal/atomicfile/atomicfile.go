// Package atomicfile writes files so that readers see either the old
// content or the complete new content, never a partial write: data goes to
// a temporary file in the same directory, is synced, then renamed over the
// target. It owns nothing else.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write calls fill with a writer for a temporary file and, if fill
// succeeds, renames the temporary file to path. On any error the
// temporary file is removed and path is untouched.
//
// A new file gets perm, less the umask; an existing one keeps its mode. A
// symbolic link is followed, so the file it points to is replaced, not the
// link. A target that is not a regular file (a terminal, /dev/null, a
// pipe) cannot be replaced atomically and is written to directly.
func Write(path string, perm os.FileMode, fill func(io.Writer) error) (err error) {
	if path == "" {
		return errors.New("write: no file name given")
	}
	target := path
	if resolved, err := filepath.EvalSymlinks(path); err == nil {
		target = resolved
	}
	if fi, err := os.Stat(target); err == nil {
		switch {
		case fi.IsDir():
			return fmt.Errorf("write %s: it is a directory; name a file", path)
		case !fi.Mode().IsRegular():
			return writeDirect(path, target, fill)
		}
		perm = fi.Mode().Perm()
	}
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("write %s: directory %s does not exist", path, dir)
	}
	var suffix [6]byte
	_, _ = rand.Read(suffix[:])
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := fill(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	return nil
}

// writeDirect writes to a target that is not a regular file.
func writeDirect(path, target string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	if err := fill(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, cause(err))
	}
	return nil
}

// cause drops the temporary file's name from an error.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
