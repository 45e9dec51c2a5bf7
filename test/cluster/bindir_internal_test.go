package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleRootDeclaresModule(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !declaresModule(filepath.Join(root, "go.mod"), ModulePath) {
		t.Errorf("ModuleRoot() = %s, whose go.mod does not declare %s", root, ModulePath)
	}
}

func TestMissingBinariesSayHowToBuildThem(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(BinDirEnv, dir)
	if got, err := BinDir(); err != nil || got != dir {
		t.Fatalf("BinDir() = %q, %v; want %q from $%s", got, err, dir, BinDirEnv)
	}
	if err := os.WriteFile(filepath.Join(dir, "etcd"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Options{})
	if err == nil {
		t.Fatal("Start succeeded without binaries")
	}
	for _, want := range []string{"kube-apiserver", "kwok", "make controlplane", BinDirEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Start error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "etcd,") {
		t.Errorf("Start error %q lists etcd, which exists", err)
	}

	t.Setenv(BinDirEnv, filepath.Join(dir, "nonexistent"))
	if _, err := BinDir(); err == nil || !strings.Contains(err.Error(), "make controlplane") {
		t.Errorf("BinDir() with a missing directory: error %v, want one naming `make controlplane`", err)
	}
}
