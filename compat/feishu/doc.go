// Package feishu serves Herald's pushes as the Feishu (Lark) help desk
// notification API, under /open-apis/helpdesk/v1/notifications:
//
//	POST  /open-apis/helpdesk/v1/notifications                               create (draft)
//	GET   /open-apis/helpdesk/v1/notifications/{notification_id}             get
//	PATCH /open-apis/helpdesk/v1/notifications/{notification_id}             update (draft only)
//	POST  /open-apis/helpdesk/v1/notifications/{notification_id}/preview
//	POST  /open-apis/helpdesk/v1/notifications/{notification_id}/submit_approve  {"reason"} (required)
//	POST  /open-apis/helpdesk/v1/notifications/{notification_id}/cancel_approve
//	POST  /open-apis/helpdesk/v1/notifications/{notification_id}/execute_send    {"send_at": "<ms>"}
//	POST  /open-apis/helpdesk/v1/notifications/{notification_id}/cancel_send     {"is_recall": bool}
//
// It is a thin adapter over herald.PushService: it decodes the vendor's
// shapes, calls the service the native API calls, and answers in the
// vendor's envelope {"code", "msg", "data"}. Ids are numeric strings
// (notification_id is the push's id), times are millisecond strings.
// user_id_type (open_id, the default; union_id; user_id) picks which of a
// user's Feishu ids the request names and the answer shows; departments
// are named by their code (department_id, "od_…") and chats by theirs
// (chat_id, "oc_…"). A name in a list is the directory's, not the
// request's. Read-only fields of a request (id, status, create_user,
// counts, times) are accepted and ignored, as the page's own PATCH sends
// them; send_at in a body is kept with the draft, and execute_send decides
// when it is sent. Lists a scope does not use are kept but target no one.
//
// The vendor publishes only status 0 (created, a draft); Herald numbers
// the rest of its lifecycle:
//
//	0 draft   1 pending approval   2 approved   3 rejected   4 scheduled
//	5 sending 6 sent               7 cancelled  8 recalled
//
// target_user_count is, until the push starts sending, whom its scope
// would reach now (the page's get example shows a count on a draft); from
// then on, the users it was sent to. The store resolves both with the
// send's one rule.
//
// approval_app_link is the native endpoint that approves the push while
// it waits for approval, and empty otherwise. The page documents no
// approval of its own (approval happens in another app, the link), so
// submit_approve follows Herald's one rule: the push waits for another
// approver unless the tenant's push policy allows self-approval and the
// submitter holds push:approve.
//
// Errors, with the HTTP status of the page's table:
//
//	400 154000  bad request: malformed JSON, a wrong type, a bad combination,
//	            an unknown user, department or chat
//	401 154001  no valid token (Authorization: Bearer, or
//	            X-Lark-Helpdesk-Authorization)
//	403 154003  the token lacks push:read (get, preview) or push:write
//	404 154004  no such notification in the token's tenant
//	405 154005  the operation is not allowed in the push's state (e.g. PATCH
//	            once submitted, execute_send before approval)
//	429 99991400 rate limited
//	500 155000  internal error
//
// Every answer under the prefix is that envelope (application/json), for
// every method and path. Readings where the page is silent:
//
//   - A method a path does not serve (PUT or DELETE on a notification,
//     GET on submit_approve, …) is 405 154005 "Method Forbidden…", with an
//     Allow header; HEAD is served wherever GET is. The stored Feishu
//     open-platform material documents no gateway answer for a wrong
//     method: 405/154005 is the page's own row for that status.
//   - A path under the prefix that the surface does not serve is 404
//     154004 "Resource not found…", the page's row for 404; likewise no
//     separate gateway answer is documented.
//   - Both are decided before the token is checked, as a router in front
//     of the handlers does.
//   - A body over 1 MiB is 400 154000 naming the limit: the page's table
//     has no 413 row and no Feishu open-platform page found documents one
//     for a JSON API, so the page's bad-request row is the closest.
//   - submit_approve's reason is required (the page marks it 必填): an
//     absent, null or blank reason is 400 154000 naming reason.
package feishu
