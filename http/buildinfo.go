package http

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// BuildInfo is what the running binary records of its own build.
type BuildInfo struct {
	// Version is the main module's version: a tag or pseudo-version for a
	// binary built from a repository or installed with go install,
	// "(devel)" otherwise.
	Version string `json:"version"`
	// Revision is the VCS revision the binary was built from, with
	// "-dirty" when the work tree had changes, or "unknown".
	Revision  string `json:"revision"`
	GoVersion string `json:"goVersion"`
}

// ReadBuildInfo returns the build information of the running binary, read
// with runtime/debug.ReadBuildInfo. Fields it cannot tell are "(devel)"
// or "unknown", never empty.
func ReadBuildInfo() BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		info = nil
	}
	return buildInfoOf(info)
}

// buildInfoOf returns the BuildInfo that info records; info may be nil.
func buildInfoOf(info *debug.BuildInfo) BuildInfo {
	b := BuildInfo{Version: "(devel)", Revision: "unknown", GoVersion: runtime.Version()}
	if info == nil {
		return b
	}
	if info.Main.Version != "" {
		b.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		b.GoVersion = info.GoVersion
	}
	dirty := false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				b.Revision = s.Value
			}
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && b.Revision != "unknown" {
		b.Revision += "-dirty"
	}
	return b
}

// String returns the version, the revision and the Go version on one line.
func (b BuildInfo) String() string {
	return fmt.Sprintf("%s (revision %s, %s)", b.Version, b.Revision, b.GoVersion)
}

// registerBuildInfo registers the gauge trueup_build_info{version,
// revision,goversion}, always 1, on reg.
func registerBuildInfo(reg prometheus.Registerer, b BuildInfo) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "trueup_build_info",
		Help:        "The running binary's version, VCS revision and Go version; always 1.",
		ConstLabels: prometheus.Labels{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion},
	})
	g.Set(1)
	reg.MustRegister(g)
}
