// Package terraform is the Terraform adapter of the IaC scan (DESIGN §9):
// it reads .tf and .tf.json configuration trees (every module directory)
// and `terraform show -json` plan files, and reports every resource that
// gives an IAM user a policy directly (aws_iam_user_policy,
// aws_iam_user_policy_attachment, aws_iam_policy_attachment with users,
// aws_iam_user_policies_exclusive, aws_iam_user_policy_attachments_exclusive)
// as an iac.Finding, every aws_iam_user as an iac.User, and the
// `iamgroups:ignore IAM-071` suppressions written beside them.
//
// It owns the Terraform syntax only: file discovery, HCL and plan JSON
// parsing, module addresses, reference resolution within a module and
// suppression comments. What a finding means is the business of the rule
// and the CLI, which see only the iac types.
package terraform

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/iamgroups/iamgroups/internal/iac"
	"github.com/iamgroups/iamgroups/internal/model"
)

// ErrUnsupported is returned by ScanFile for a path that is neither .tf,
// .tf.json nor .json.
var ErrUnsupported = errors.New("not a Terraform file (.tf, .tf.json or plan .json)")

// fileKind is what a path holds, judged by its name.
type fileKind int

const (
	kindNone fileKind = iota
	kindHCL
	kindHCLJSON
	kindJSON // maybe a plan
)

func kindOf(path string) fileKind {
	base := filepath.Base(path) // Terraform reads only lower-case .tf
	switch {
	case strings.HasSuffix(base, ".tf.json"):
		return kindHCLJSON
	case strings.HasSuffix(base, ".tf"):
		return kindHCL
	case strings.HasSuffix(base, ".json"):
		return kindJSON
	}
	return kindNone
}

// ScanFile scans one file: a .tf or .tf.json configuration file (references
// resolve within the file only, and no module prefix is known) or a
// `terraform show -json` plan. A .json file that is not a plan (valid JSON
// without a top-level format_version and resource_changes, or text that
// mentions neither) is not Terraform: the Scan is empty with Files == 0, so
// that the caller can try another adapter. A plan that does not parse is a
// FileError. The error is ErrUnsupported for any other file name; problems
// in the file go to Scan.Errors.
func ScanFile(path string, data []byte) (*iac.Scan, error) {
	k := kindOf(path)
	if k == kindNone {
		return nil, fmt.Errorf("%s: %w", path, ErrUnsupported)
	}
	scan := &iac.Scan{Files: 1}
	if k == kindJSON {
		if !looksLikePlan(data) || !scanPlan(scan, path, data) {
			return &iac.Scan{}, nil // not Terraform: Files == 0
		}
		sortScan(scan)
		return scan, nil
	}
	pf := parseConfig(path, data, k)
	m := &module{dir: filepath.Dir(path), files: []*parsedFile{pf}}
	m.index()
	scan.Errors = append(scan.Errors, pf.errs...)
	m.emit(scan, []string{""})
	sortScan(scan)
	return scan, nil
}

// ScanDir scans every .tf and .tf.json file under root (every module
// directory; .terraform/ and hidden directories are skipped) and every
// `terraform show -json` plan file (a .json file whose top-level object has
// "format_version" and "resource_changes"; other .json files are not
// Terraform and are ignored). A resource in a directory that a local module
// block (source "./…" or "../…") of the tree calls is addressed
// module.<name>.<type>.<name>, once per call. The error is set only when root
// cannot be read; problems in files go to Scan.Errors. A root that is a file
// is scanned as by ScanFile.
func ScanDir(root string) (*iac.Scan, error) {
	fi, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		data, err := os.ReadFile(root)
		if err != nil {
			return nil, err
		}
		return ScanFile(root, data)
	}
	if _, err := os.ReadDir(root); err != nil {
		return nil, err
	}

	scan := &iac.Scan{}
	var paths []string
	walkErr := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root {
				return err
			}
			scan.Errors = append(scan.Errors, iac.FileError{File: path, Msg: err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == ".terraform" || strings.HasPrefix(name, ".")) {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, ".") {
			return nil
		}
		if !d.Type().IsRegular() {
			// Terraform reads a symlinked file as its target.
			if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		}
		if kindOf(path) != kindNone {
			paths = append(paths, path)
		}
		return nil
	})
	if walkErr != nil {
		return nil, walkErr
	}

	// Read and parse in parallel; the results keep the walk's order.
	type result struct {
		pf     *parsedFile
		plan   *iac.Scan
		readEr *iac.FileError
	}
	results := make([]result, len(paths))
	workers := min(runtime.GOMAXPROCS(0), len(paths))
	var next int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(paths) {
					return
				}
				path := paths[i]
				data, err := os.ReadFile(path)
				if err != nil {
					results[i].readEr = &iac.FileError{File: path, Msg: err.Error()}
					continue
				}
				switch k := kindOf(path); k {
				case kindJSON:
					if looksLikePlan(data) {
						ps := &iac.Scan{Files: 1}
						if scanPlan(ps, path, data) {
							results[i].plan = ps
						}
					}
				default:
					results[i].pf = parseConfig(path, data, k)
				}
			}
		}()
	}
	wg.Wait()

	modules := map[string]*module{}
	var dirs []string
	for _, r := range results {
		switch {
		case r.readEr != nil:
			scan.Errors = append(scan.Errors, *r.readEr)
		case r.plan != nil:
			scan.Files += r.plan.Files
			scan.Findings = append(scan.Findings, r.plan.Findings...)
			scan.Users = append(scan.Users, r.plan.Users...)
			scan.Errors = append(scan.Errors, r.plan.Errors...)
		case r.pf != nil:
			scan.Files++
			scan.Errors = append(scan.Errors, r.pf.errs...)
			dir := filepath.Dir(r.pf.path)
			m := modules[dir]
			if m == nil {
				m = &module{dir: dir}
				modules[dir] = m
				dirs = append(dirs, dir)
			}
			m.files = append(m.files, r.pf)
		}
	}
	for _, m := range modules {
		m.index()
	}
	prefixes := modulePrefixes(modules, dirs)
	for _, dir := range dirs {
		modules[dir].emit(scan, prefixes[dir])
	}
	sortScan(scan)
	return scan, nil
}

// maxModuleDepth bounds module nesting, so that a cycle of module calls
// cannot loop.
const maxModuleDepth = 16

// modulePrefixes gives each module directory the address prefixes it is
// instantiated under: "" for a directory no module block of the tree calls
// (a root module), "module.a.module.b." for one called through a and b.
func modulePrefixes(modules map[string]*module, dirs []string) map[string][]string {
	called := map[string]bool{}
	for _, dir := range dirs {
		for _, c := range modules[dir].calls {
			if c.dir != dir && modules[c.dir] != nil {
				called[c.dir] = true
			}
		}
	}
	out := map[string][]string{}
	seen := map[string]bool{} // dir + "\x00" + prefix
	type item struct {
		dir, prefix string
		depth       int
	}
	var queue []item
	for _, dir := range dirs {
		if !called[dir] {
			queue = append(queue, item{dir, "", 0})
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		key := it.dir + "\x00" + it.prefix
		if seen[key] {
			continue
		}
		seen[key] = true
		out[it.dir] = append(out[it.dir], it.prefix)
		if it.depth >= maxModuleDepth {
			continue
		}
		for _, c := range modules[it.dir].calls {
			if modules[c.dir] != nil && c.dir != it.dir {
				queue = append(queue, item{c.dir, it.prefix + "module." + c.name + ".", it.depth + 1})
			}
		}
	}
	for _, dir := range dirs {
		if len(out[dir]) == 0 { // only reachable through a cycle
			out[dir] = []string{""}
		}
	}
	return out
}

// locationLess orders by file, line, column, then address.
func locationLess(a, b model.Location) bool {
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Column != b.Column {
		return a.Column < b.Column
	}
	return a.Address < b.Address
}

func sortScan(s *iac.Scan) {
	sort.SliceStable(s.Findings, func(i, j int) bool { return locationLess(s.Findings[i].Location, s.Findings[j].Location) })
	sort.SliceStable(s.Users, func(i, j int) bool { return locationLess(s.Users[i].Location, s.Users[j].Location) })
	sort.SliceStable(s.Errors, func(i, j int) bool {
		a, b := s.Errors[i], s.Errors[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
}

// looksLikePlan is a cheap test before decoding a .json file.
func looksLikePlan(data []byte) bool {
	return bytes.Contains(data, []byte(`"format_version"`)) && bytes.Contains(data, []byte(`"resource_changes"`))
}
