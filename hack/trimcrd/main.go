// Command trimcrd removes the descriptions that controller-gen copies from Kubernetes'
// own types into the Rollout CRD (the embedded pod template), keeping those of our
// fields. The full pod template docs make the CRD too large for a client-side
// `kubectl apply` (and Argo CD's default sync), whose last-applied annotation is
// limited to 256 KiB; `kubectl explain pod.spec` still documents those fields.
//
//	go build -o bin/trimcrd ./hack/trimcrd && bin/trimcrd FILE PATH...
//
// PATH is a dotted path of properties under the served version's schema, such as
// spec.template.
package main

import (
	"fmt"
	"os"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: trimcrd FILE PATH...")
		os.Exit(2)
	}
	if err := trim(os.Args[1], os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "trimcrd:", err)
		os.Exit(1)
	}
}

func trim(file string, paths []string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(data, &crd); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for i := range crd.Spec.Versions {
		v := &crd.Spec.Versions[i]
		if v.Schema == nil || v.Schema.OpenAPIV3Schema == nil {
			continue
		}
		for _, path := range paths {
			// Maps are shared, so edits through a copied JSONSchemaProps reach the CRD.
			props := v.Schema.OpenAPIV3Schema.Properties
			parts := strings.Split(path, ".")
			for i, name := range parts {
				node, ok := props[name]
				if !ok {
					return fmt.Errorf("%s: no property %q in %s", file, name, path)
				}
				if i < len(parts)-1 {
					props = node.Properties
					continue
				}
				for child, p := range node.Properties {
					stripDescriptions(&p)
					node.Properties[child] = p
				}
			}
		}
	}
	// Write back without the empty status that the typed struct would add.
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&crd)
	if err != nil {
		return err
	}
	delete(obj, "status")
	out, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	return os.WriteFile(file, append([]byte("---\n"), out...), 0o644)
}

func stripDescriptions(s *apiextensionsv1.JSONSchemaProps) {
	s.Description = ""
	for name, p := range s.Properties {
		stripDescriptions(&p)
		s.Properties[name] = p
	}
	if s.Items != nil && s.Items.Schema != nil {
		stripDescriptions(s.Items.Schema)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		stripDescriptions(s.AdditionalProperties.Schema)
	}
}
