package http

import (
	"maps"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestBuildInfoOf(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want BuildInfo
	}{
		{"none", nil, BuildInfo{Version: "(devel)", Revision: "unknown", GoVersion: runtime.Version()}},
		{"devel without vcs", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			BuildInfo{Version: "(devel)", Revision: "unknown", GoVersion: "go1.26.8"}},
		{"tagged", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "7569d4c1"}, {Key: "vcs.modified", Value: "false"}}},
			BuildInfo{Version: "v1.4.0", Revision: "7569d4c1", GoVersion: "go1.26.8"}},
		{"modified tree", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.0.0-20261207120000-7569d4c1abcd+dirty"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "7569d4c1abcd"}, {Key: "vcs.modified", Value: "true"}}},
			BuildInfo{Version: "v0.0.0-20261207120000-7569d4c1abcd+dirty", Revision: "7569d4c1abcd-dirty", GoVersion: "go1.26.8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := buildInfoOf(tt.info); got != tt.want {
				t.Errorf("buildInfoOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestBuildInfoGauge(t *testing.T) {
	b := ReadBuildInfo()
	families, err := NewMetrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "trueup_build_info" {
			continue
		}
		if len(f.Metric) != 1 {
			t.Fatalf("trueup_build_info has %d series, want 1", len(f.Metric))
		}
		got := map[string]string{}
		for _, l := range f.Metric[0].Label {
			got[l.GetName()] = l.GetValue()
		}
		want := map[string]string{"version": b.Version, "revision": b.Revision, "goversion": b.GoVersion}
		if !maps.Equal(got, want) {
			t.Errorf("labels = %v, want %v", got, want)
		}
		if v := f.Metric[0].GetGauge().GetValue(); v != 1 {
			t.Errorf("value = %v, want 1", v)
		}
		return
	}
	t.Fatal("no trueup_build_info among the metrics")
}
