// Package crd embeds the generated CustomResourceDefinitions of config/crd/bases, so that
// tools such as `kubectl bluegreen lint` validate objects offline exactly as the API server would.
package crd

import "embed"

// Bases holds bases/*.yaml: one CustomResourceDefinition per file.
//
//go:embed bases/*.yaml
var Bases embed.FS
