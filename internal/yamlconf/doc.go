// Package yamlconf is strict YAML config parsing: file:line:column errors,
// unknown-key suggestions, node helpers.
//
// A parser embeds a Problems, decodes the file with Problems.Decode and walks
// the nodes, reading mappings with Problems.Pairs and values with
// Problems.Scalar; each problem it finds is an *Error ("file:line:column:
// field: message") saying what is wrong and what to do, and Problems.Err
// joins them. YAML syntax errors are located by SyntaxError. The exemptions
// config (package exempt) and the serve config (package watch) are parsed
// this way, so that both report problems alike.
//
// It imports only the YAML library.
package yamlconf
