// Package codeartsdeploy serves Huawei CodeArts Deploy's application
// notification API (ListApplicationMsg / UpdateApplicationMsgV2),
// wire-compatible, on Herald's domain services. A client written against
// Huawei's service works against Herald by changing only the endpoint and
// the token.
//
// # Endpoints
//
//	GET  /v2/projects/{project_id}/applications/{app_id}/messages  the application's TaskMsgBody list
//	POST /v2/projects/{project_id}/applications/{app_id}/messages  replace it with the array sent
//
// The token comes in X-Auth-Token (or any header the native API accepts);
// GET needs settings:read, POST settings:write, and notifiers:write too
// when it points a dedicated robot or webhook notifier (herald.Policy;
// docs/SECURITY.md). POST answers like GET, with the configuration as
// stored.
//
// # Mapping
//
// An application is a herald.Source of kind application whose ExternalID is
// the 32-character app_id, created beforehand through the native API; the
// path's project_id must equal its project's Project.ExternalID. An unknown
// application, a project_id that does not match, or a project the token's
// scope does not admit is 404.
//
// The application's settings are its herald.Settings; one TaskMsgBody is
// one channel. The vendor has no preview: a POST replaces the channels it
// can express in the live settings with herald.SettingsService.ApplyLive,
// creating or re-pointing the notifiers in the same transaction, so that a
// POST that fails part-way changes nothing. A draft edited natively and
// not deployed gets the same change and keeps its own edits pending. GET
// reads the live settings.
//
// msg_type names the channel's notifier:
//
//	message  inbox     the project's first inbox notifier ("system message" is created when there is none; herald.NotifierSpec's rule)
//	email    email     the project's first email notifier (400 when the project has none)
//	dingtalk dingtalk  a notifier dedicated to the application, named "<app name> dingtalk"
//	wechat   wecom     a notifier dedicated to the application, named "<app name> wechat"
//	lark     lark      a notifier dedicated to the application, named "<app name> lark"
//	webhook  webhook   a notifier dedicated to the application, named "<app name> webhook"
//
// POST creates or updates the dedicated notifiers: send_url is its URL,
// secret_info its secret (an empty secret_info, "xxxx" or "********" keeps
// the stored secret; GET shows "xxxx" when one is stored, never the
// secret), at_user_ids and wechat_user_ids its mentioned user ids,
// at_mobiles its mentioned mobiles, http_headers ("Key: Value" strings) its
// headers map (GET lists them sorted by key), message_body its body
// template. The shared inbox and email notifiers are not changed by this
// surface: on those channels send_url, message_body, http_headers and the
// mention lists are kept as vendor attributes and read back. Notifiers are
// found by name, so renaming the application makes the next POST create
// new ones; the old ones stay (without channels) until deleted natively.
// Creating or re-pointing them sets where credentials go, so it needs
// notifiers:write as in the native API; a token with settings:write alone
// gets 403 Deploy.00011154 and nothing changes.
//
// The rest of a TaskMsgBody:
//
//	msg_state                ChannelSettings.Enabled (absent: false)
//	msg_level project        Settings.InheritProject; every item must carry the same level
//	state_switch             EventSettings, by name:
//	    success  deploy.succeeded
//	    failure  deploy.failed
//	    update   app.updated
//	    delete   app.deleted
//	  open                   Enabled (absent: false)
//	  receivers              the event's USER recipients (null when none)
//	body_switch              BodyFields: name and open (shown)
//	id, task_id, user_id, ext_params, sort_index, the sort values, create_time
//	                         vendor attributes with no native meaning, kept in
//	                         ChannelSettings.Ext and read back
//
// sort_index defaults to the page's table (-1 message, 0 email, 1 dingtalk,
// 2 wechat, 3 lark, 4 webhook); a value sent is kept, since the page's own
// example shows an email item with -1. An item without an id gets a stable
// one derived from the application and the notifier. GET always lists the
// four state switches, those not configured closed. create_time is when
// Herald first stored the item, update_time when the settings were last
// deployed, both "yyyy-MM-dd HH:mm:ss" in Surface.Location (UTC by default).
//
// POST replaces what the vendor can express: channels of the six notifier
// types not in the array are removed. It keeps what the vendor cannot
// express: channels of other notifier types (sms), event types other than
// the four, and recipients other than USER ones. Every item is validated
// before anything is written; booleans may be JSON booleans or the strings
// "true"/"false".
//
// # Errors
//
// Errors are {"error_code": "…", "error_msg": "…"}, for every method and
// every path under /v2/projects/. The Deploy codes marked vendor are
// CodeArts Deploy's; the others are Herald's, in the same series, for
// cases the vendor's error page does not list.
//
//	400 Deploy.00011002  invalid parameter (ids, bad JSON, unknown msg_type or
//	                     switch name, bad URL, header or template, missing
//	                     email notifier)                                  Herald
//	403 Deploy.00011154  the token lacks settings:read / settings:write  vendor
//	404 Deploy.00011021  application does not exist                      vendor (as Huawei's Terraform provider reads it)
//	500 Deploy.00011000  internal error, or concurrent writers kept the
//	                     revision moving; try again                       Herald
//
// What Huawei's API gateway (APIG) in front of the service answers itself
// is answered with the gateway's codes and texts, as read from APIG's
// error code page ("Error Codes", API Gateway user guide) and its FAQ
// "Common Errors Related to IAM Authentication Information":
//
//	401 APIG.0301  "Incorrect IAM authentication information: x-auth-token not found"
//	               no token
//	401 APIG.0301  "Incorrect IAM authentication information: decrypt token fail"
//	               an unknown or revoked token (Herald's tokens do not
//	               expire, so the page's "token expires, expires_at: …"
//	               text is not used)
//	404 APIG.0101  "The API does not exist."  a method the path does not
//	               serve (DELETE on the messages): the gateway has no 405,
//	               a method no API defines is an API that does not exist,
//	               and it sends no Allow header
//	404 APIG.0101  "The API does not exist or has not been published in
//	               the environment."  any other path under /v2/projects/
//	413 APIG.0201  "Request entity too large."  a body over 1 MiB
//
// The gateway's answers also carry a request_id member; Herald's do not,
// keeping every error body to the two members the service documents.
//
// Unknown members of a POST body's items, at any depth, are ignored, as
// the Java service behind the vendor's API does (Jackson with
// FAIL_ON_UNKNOWN_PROPERTIES off). Members the page lists are checked as
// above.
package codeartsdeploy
