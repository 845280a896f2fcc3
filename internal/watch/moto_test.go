package watch

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/iamgroups/iamgroups/internal/mototest"
	"github.com/iamgroups/iamgroups/internal/notify"
	"github.com/iamgroups/iamgroups/internal/store"
	"github.com/iamgroups/iamgroups/internal/web"
)

func TestMain(m *testing.M) { os.Exit(mototest.Main(m)) }

// webhook is a notification receiver that keeps every body it gets.
type webhook struct {
	mu     sync.Mutex
	bodies []string
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, string(b))
	h.mu.Unlock()
}

func (h *webhook) got() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

// get fetches a page or an API document of the web server.
func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, b)
	}
	return string(b)
}

// Must show 1: a moto account scanned every second. A policy attached to
// a user between two scans is one new finding and one notification; once
// detached it is resolved, with a notification; the API and the dashboard
// show both states.
func TestMotoTargetOnAShortSchedule(t *testing.T) {
	srv := mototest.Require(t)
	proxy := mototest.NewProxy(t, srv)
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithBaseEndpoint(proxy.URL))
	if err != nil {
		t.Fatal(err)
	}
	client := iam.NewFromConfig(awsCfg)
	for _, name := range []string{"alice", "bob"} {
		if _, err := client.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	hook := &webhook{}
	receiver := httptest.NewServer(hook)
	defer receiver.Close()
	yaml := "targets:\n" +
		"  - name: moto\n" +
		"    endpoint_url: " + proxy.URL + "\n" +
		"    every: 1s\n" +
		"notify:\n" +
		"  - url_env: HOOK\n" +
		"    format: json\n"
	cfg, err := Parse([]byte(yaml), "iamgroups.yaml", ParseOptions{MinInterval: time.Second,
		LookupEnv: env(map[string]string{"HOOK": receiver.URL + "/hook"})})
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	notifier := notify.New(cfg.Notify, notify.Options{})
	scanner := &Scanner{Store: st, Exemptions: cfg.Exemptions, Notifier: notifier}
	sched := NewScheduler(cfg.Targets, scanner.Scan, SchedulerOptions{Store: st})
	site, err := web.New(web.Options{Store: st, Scheduler: sched})
	if err != nil {
		t.Fatal(err)
	}
	dashboard := httptest.NewServer(site)
	defer dashboard.Close()
	stop := start(t, sched)

	// finishedAfter waits for a run that started after t0 to finish, and
	// returns every run so far, oldest first.
	finishedAfter := func(t0 time.Time) []store.Run {
		t.Helper()
		var runs []store.Run
		eventually(t, "a run started after "+t0.Format(time.StampMilli), func() bool {
			var err error
			runs, err = st.Runs(ctx, store.RunQuery{Target: "moto"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range runs {
				if r.StartedAt.After(t0) && r.Status != store.RunRunning {
					return true
				}
			}
			return false
		})
		for i, j := 0, len(runs)-1; i < j; i, j = i+1, j-1 {
			runs[i], runs[j] = runs[j], runs[i]
		}
		return runs
	}
	count := func(runs []store.Run) (n, resolved int) {
		for _, r := range runs {
			if r.Status != store.RunOK && r.Status != store.RunRunning {
				t.Errorf("run %d: %s %s", r.ID, r.Status, r.Error)
			}
			n += r.New + r.Reopened
			resolved += r.Resolved
		}
		return
	}

	runs := finishedAfter(time.Time{})
	if r := runs[0]; r.Summary.Users != 2 || r.Summary.Pass != 2 || r.Method != "gaad" || r.APICalls["GetAccountAuthorizationDetails"] != 1 {
		t.Fatalf("first run %+v", r)
	}

	attached := time.Now()
	if _, err := client.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	runs = finishedAfter(attached)
	if n, resolved := count(runs); n != 1 || resolved != 0 {
		t.Errorf("after the attachment: %d new and %d resolved findings over %d runs, want 1 and 0", n, resolved, len(runs))
	}
	var opened *store.Run
	for i := range runs {
		if runs[i].New == 1 {
			opened = &runs[i]
		}
	}
	if opened == nil || opened.Summary.Fail != 1 || opened.ID == runs[0].ID {
		t.Fatalf("no later run opened the finding: %+v", runs)
	}
	eventually(t, "the notification of the new finding", func() bool { return len(hook.got()) == 1 })
	var note struct {
		Event    string `json:"event"`
		Target   string `json:"target"`
		RunID    int64  `json:"run_id"`
		Findings []struct {
			UserName string   `json:"user_name"`
			Policies []string `json:"policies"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(hook.got()[0]), &note); err != nil {
		t.Fatal(err)
	}
	if note.Event != "new" || note.Target != "moto" || note.RunID != opened.ID || len(note.Findings) != 1 ||
		note.Findings[0].UserName != "alice" || strings.Join(note.Findings[0].Policies, ",") != "ReadOnlyAccess" {
		t.Errorf("notification %s", hook.got()[0])
	}
	api := get(t, dashboard.URL+"/api/v1/findings")
	var findings struct {
		Total    int `json:"total"`
		Findings []struct {
			UserName string `json:"user_name"`
			State    string `json:"state"`
			Status   string `json:"status"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(api), &findings); err != nil {
		t.Fatal(err)
	}
	if findings.Total != 1 || findings.Findings[0].UserName != "alice" || findings.Findings[0].State != store.FindingOpen {
		t.Errorf("API findings while attached: %s", api)
	}
	if page := get(t, dashboard.URL+"/findings"); !strings.Contains(page, "alice") || !strings.Contains(page, "ReadOnlyAccess") {
		t.Errorf("the findings page does not show alice's open finding:\n%s", page)
	}

	detached := time.Now()
	if _, err := client.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("alice"),
		PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}); err != nil {
		t.Fatal(err)
	}
	runs = finishedAfter(detached)
	if n, resolved := count(runs); n != 1 || resolved != 1 {
		t.Errorf("after the detachment: %d new and %d resolved findings over %d runs, want 1 and 1", n, resolved, len(runs))
	}
	eventually(t, "the notification of the resolved finding", func() bool { return len(hook.got()) == 2 })
	if body := hook.got()[1]; !strings.Contains(body, `"event":"resolved"`) || !strings.Contains(body, `"user_name":"alice"`) {
		t.Errorf("second notification %s", body)
	}
	api = get(t, dashboard.URL+"/api/v1/findings")
	findings.Findings = nil
	if err := json.Unmarshal([]byte(api), &findings); err != nil {
		t.Fatal(err)
	}
	if findings.Total != 1 || findings.Findings[0].State != store.FindingResolved {
		t.Errorf("API findings after the detachment: %s", api)
	}
	if page := get(t, dashboard.URL+"/findings?state=resolved"); !strings.Contains(page, "alice") {
		t.Errorf("the findings page does not show alice's resolved finding:\n%s", page)
	}
	if status := get(t, dashboard.URL+"/"); !strings.Contains(status, "moto") {
		t.Errorf("the overview does not name the target")
	}

	stop()
	closeCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := notifier.Close(closeCtx); err != nil {
		t.Fatal(err)
	}
	if n := len(hook.got()); n != 2 {
		t.Errorf("%d notifications in all, want 2", n)
	}
}
