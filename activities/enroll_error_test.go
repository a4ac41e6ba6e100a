package activities_test

import (
	"strings"
	"testing"

	"github.com/coursecommerce/commerce/activities"
	"github.com/coursecommerce/commerce/db/dbtest"
	"github.com/stretchr/testify/require"
)

// The failure of an enrollment says what the LMS said once: it is what the checkout's status
// query shows as the line's last_error (it used to repeat it three times, through the causes).
func TestEnrollFailureSaysTheLMSErrorOnce(t *testing.T) {
	t.Parallel()
	s := dbtest.Store(t)
	for _, tc := range []struct {
		name, text string
		prepare    func(courseID string, fail func(int), reject func(...string))
	}{
		{"Rejected", "course not found", func(courseID string, _ func(int), reject func(...string)) { reject(courseID) }},
		{"ServerError", "simulated failure", func(_ string, fail func(int), _ func(...string)) { fail(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim, client := lmsServer(t)
			o := placedOrder(t, s, "49.00")
			a := &activities.Activities{Deployment: dep, Store: s, LMS: client, Logger: discard}
			in := o.enrollInput(0)
			tc.prepare(in.CourseID, sim.FailNext, sim.RejectCourses)

			_, err := env(a).ExecuteActivity(a.Enroll, in)
			appErr := applicationError(t, err)
			require.Equal(t, 1, strings.Count(appErr.Error(), tc.text), appErr.Error())
			require.Nil(t, appErr.Unwrap(), "no cause repeating the message")
			require.Equal(t, line(t, s, in.OrderNumber, in.SKU).FulfillmentError, appErr.Message())
		})
	}
}
