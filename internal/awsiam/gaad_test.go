package awsiam

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/iamgroups/iamgroups/internal/model"
)

// fakeGAAD serves users in pages of uneven sizes, including empty pages
// that still say IsTruncated, as IAM may.
type fakeGAAD struct {
	users   int
	sizes   []int // page sizes, cycled
	calls   int
	markers []string
	// broken, when set, makes the fake misbehave: "no-marker" or "loop".
	broken string
}

func (f *fakeGAAD) GetAccountAuthorizationDetails(_ context.Context, in *iam.GetAccountAuthorizationDetailsInput, _ ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error) {
	if aws.ToInt32(in.MaxItems) != gaadPageSize {
		return nil, fmt.Errorf("MaxItems = %d, want %d", aws.ToInt32(in.MaxItems), gaadPageSize)
	}
	f.markers = append(f.markers, aws.ToString(in.Marker))
	start := 0
	if in.Marker != nil {
		// Markers are "m<position>.<call>": an empty page still moves
		// the marker on, as IAM's opaque markers do.
		fmt.Sscanf(strings.TrimPrefix(*in.Marker, "m"), "%d.", &start)
	}
	size := f.sizes[f.calls%len(f.sizes)]
	f.calls++
	end := min(start+size, f.users)
	out := &iam.GetAccountAuthorizationDetailsOutput{}
	for i := start; i < end; i++ {
		name := fmt.Sprintf("u%05d", i)
		u := types.UserDetail{UserName: aws.String(name), Arn: aws.String("arn:aws-us-gov:iam::210987654321:user/" + name)}
		if i%3 == 0 {
			u.UserPolicyList = []types.PolicyDetail{{PolicyName: aws.String("p"),
				PolicyDocument: aws.String(url.PathEscape(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`))}}
		}
		out.UserDetailList = append(out.UserDetailList, u)
	}
	if end < f.users {
		out.IsTruncated = true
		switch f.broken {
		case "no-marker":
		case "loop":
			out.Marker = aws.String("m0")
		default:
			out.Marker = aws.String(fmt.Sprintf("m%d.%d", end, f.calls))
		}
	}
	return out, nil
}

func TestGAADPagination(t *testing.T) {
	f := &fakeGAAD{users: 2500, sizes: []int{1000, 0, 7, 993, 1000}}
	a := &model.Account{}
	if err := collectGAAD(context.Background(), f, a, false); err != nil {
		t.Fatal(err)
	}
	if len(a.Users) != 2500 || f.calls != 5 {
		t.Fatalf("%d users in %d calls, want 2500 in 5", len(a.Users), f.calls)
	}
	for i, u := range a.Users {
		if want := fmt.Sprintf("u%05d", i); u.Name != want {
			t.Fatalf("user %d is %s, want %s", i, u.Name, want)
		}
		if (i%3 == 0) != (len(u.InlinePolicies) == 1) {
			t.Fatalf("user %s: %d inline policies", u.Name, len(u.InlinePolicies))
		}
	}
	if d := a.Users[0].InlinePolicies[0]; d.Digest == "" || !strings.Contains(d.Canonical, `"Action":["s3:*"]`) {
		t.Errorf("URL-encoded document not decoded: %+v", d)
	}
	if f.markers[0] != "" || f.markers[1] != "m1000.1" {
		t.Errorf("markers sent: %q", f.markers)
	}
}

func TestGAADPaginationRefusesBrokenPages(t *testing.T) {
	for _, broken := range []string{"no-marker", "loop"} {
		f := &fakeGAAD{users: 3000, sizes: []int{1000}, broken: broken}
		err := collectGAAD(context.Background(), f, &model.Account{}, false)
		if err == nil || f.calls > 3 {
			t.Errorf("%s: err %v after %d calls; want an error, not an endless loop", broken, err, f.calls)
		}
	}
}
