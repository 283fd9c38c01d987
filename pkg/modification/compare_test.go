package modification

import "testing"

func TestEqualAsData(t *testing.T) {
	tests := []struct {
		name       string
		kind       kind
		disk, gen  string
		wantEquals bool
	}{
		{"yaml key order and indentation", kindYAML, "b: 1\na:\n    - x\n    - y\n", "a:\n- x\n- y\nb: 1\n", true},
		{"yaml comments", kindYAML, "# mine\na: 1 # one\n", "a: 1\n", true},
		{"yaml quoting", kindYAML, "a: 'x'\nb: \"y\"\n", "a: x\nb: y\n", true},
		{"yaml flow style", kindYAML, "a: {b: [1, 2]}\n", "a:\n  b:\n  - 1\n  - 2\n", true},
		{"yaml 1 and 1.0", kindYAML, "a: 1.0\n", "a: 1\n", true},
		{"yaml string is not a number", kindYAML, "a: '1'\n", "a: 1\n", false},
		{"yaml bool is not a string", kindYAML, "a: true\n", "a: 'true'\n", false},
		{"yaml changed value", kindYAML, "mastersSchedulable: false\n", "mastersSchedulable: true\n", false},
		{"yaml added key", kindYAML, "a: 1\nb: 2\n", "a: 1\n", false},
		{"yaml list order matters", kindYAML, "a: [2, 1]\n", "a: [1, 2]\n", false},
		{"yaml documents", kindYAML, "a: 1\n---\nb: 2\n", "---\na: 1\n---\nb: 2\n---\n", true},
		{"yaml missing document", kindYAML, "a: 1\n", "a: 1\n---\nb: 2\n", false},
		{"yaml non-string keys", kindYAML, "1: a\ntrue: b\n", "true: b\n1: a\n", true},
		{"yaml anchors expand", kindYAML, "x: &v {a: 1}\ny: *v\n", "x: {a: 1}\ny: {a: 1}\n", true},
		{"yaml that does not parse", kindYAML, "a: [1\n", "a: [1]\n", false},
		{"empty and comment-only yaml", kindYAML, "# nothing\n", "", true},
		{"json whitespace and order", kindJSON, "{\n  \"b\": [1, 2],\n  \"a\": null\n}\n", `{"a":null,"b":[1,2]}`, true},
		{"json number forms", kindJSON, `{"a":1e3,"b":0.5}`, `{"a":1000,"b":5e-1}`, true},
		{"json big integers stay exact", kindJSON, `{"a":9007199254740993}`, `{"a":9007199254740992}`, false},
		{"json changed value", kindJSON, `{"a":"x"}`, `{"a":"y"}`, false},
		{"json trailing data", kindJSON, `{"a":1} {}`, `{"a":1}`, false},
		{"json that does not parse", kindJSON, `{"a":`, `{"a":1}`, false},
		{"bytes", kindBytes, "a\n", "a", false},
		{"install-config: defaults the user left out", kindInstallConfig, "a: 1\nb: {c: 2}\n", "a: 1\nb: {c: 2, d: 3}\ne: 4\n", true},
		{"install-config: null means left out", kindInstallConfig, "a: 1\nz: null\n", "a: 1\n", true},
		{"install-config: a key the installer does not have", kindInstallConfig, "a: 1\nfips: true\n", "a: 1\n", false},
		{"install-config: changed value", kindInstallConfig, "b: {c: 5}\n", "b: {c: 2, d: 3}\n", false},
		{"install-config: list length", kindInstallConfig, "l: [{n: a}]\n", "l: [{n: a, x: 1}, {n: b}]\n", false},
		{"install-config: list elements as subsets", kindInstallConfig, "l: [{n: a}]\n", "l: [{n: a, x: 1}]\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pending{kind: tt.kind, disk: []byte(tt.disk), gen: []byte(tt.gen)}
			if got := p.equal(); got != tt.wantEquals {
				t.Errorf("equal() = %v, want %v", got, tt.wantEquals)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	for p, want := range map[string]kind{
		"install-config.yaml":           kindInstallConfig,
		"manifests/a.yaml":              kindYAML,
		"manifests/a.yml":               kindYAML,
		"manifests/a.json":              kindJSON,
		"bootstrap.ign":                 kindJSON,
		"openshift/notes.txt":           kindBytes,
		"manifests/install-config.yaml": kindYAML,
	} {
		if got := kindOf(p); got != want {
			t.Errorf("kindOf(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestLabelFor(t *testing.T) {
	const capi = "cluster-api/machines/10_inframachine_wrapper-test-q244p-master-0.yaml"
	ix := &index{infraID: "wrapper-test-q244p", vouched: map[string]bool{
		"manifests/cluster-config.yaml": true, capi: true, "manifests/my file.yaml": true, "manifests/ünïcode.yaml": true,
	}}
	for _, tt := range []struct{ path, want string }{
		{"manifests/cluster-config.yaml", "manifests/cluster-config.yaml"},
		{capi, "cluster-api/machines/10_inframachine_<infraID>-master-0.yaml"},
		{"manifests/99-user-extra-configmap.yaml", UserAdded},
		{"manifests/my file.yaml", UserAdded},
		{"manifests/ünïcode.yaml", UserAdded},
	} {
		if got := labelFor(tt.path, ix); got != tt.want {
			t.Errorf("labelFor(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}
