// Package codeartsbuild serves Huawei CodeArts Build's job notification
// API (UpdateNotice / ShowJobNoticeConfigInfo), wire-compatible, on Herald's
// domain services. A client written against Huawei's service works against
// Herald by changing only the endpoint and the token.
//
// # Endpoints
//
//	PUT /v1/job/{job_id}/notice          update one notice type of a job
//	PUT /v1/job/{job_id}/notice/update   the same; the vendor page's example uses it
//	GET /v1/job/{job_id}/notice          every notice type of a job
//
// The token comes in X-Auth-Token (or any header the native API accepts);
// GET needs settings:read, PUT settings:write.
//
// # Mapping
//
// A build job is a herald.Source of kind build_job whose ExternalID is the
// 32-character job_id, created beforehand through the native API. An
// unknown job, or one in a project the token's scope does not admit, is 404.
//
// The job's settings are its herald.Settings. The vendor has no preview: a
// PUT applies its change to the live settings with
// herald.SettingsService.ApplyLive, in one transaction with the notifier it
// needs. A draft edited natively and not deployed yet is not deployed by
// it: the draft gets the vendor's change too and keeps its own edits
// pending. GET reads the live settings.
//
// notice_type names a notifier of the job's project:
//
//	MESSAGE   inbox     the project's first inbox notifier; one named
//	                    "system message" is created when there is none
//	                    (herald.NotifierSpec's rule, shared by every surface)
//	MAIL      email     the project's first email notifier
//	DING_TALK dingtalk  the project's first DingTalk notifier
//	FEISHU    lark      the project's first Feishu (Lark) notifier
//	WECOM     wecom     the project's first WeCom notifier
//
// A PUT for a type whose notifier the project lacks is 400 naming it. The
// channel of that notifier in the job's settings carries the rest:
//
//	send_switch                 ChannelSettings.Enabled (a new channel starts on)
//	use_project_notice          Settings.InheritProject
//	enabled_event_type_names    EventSettings.Enabled of these event types:
//	    buildJobSuccess  build.succeeded
//	    buildJobFail     build.failed
//	    updateConfigJob  job.updated
//	    deleteJob        job.deleted
//	    forbiddenJob     job.disabled
//	param_config                a JSON document in a string; its
//	    eventTypeNamesReceivers (event -> roles creator|executor|follower)
//	    are the FIELD_ENTITY recipients of that event with those codes.
//	    Recipients the vendor cannot express (users, groups, other roles)
//	    are kept as they are. Other members of param_config have no native
//	    meaning: they are kept in ChannelSettings.Ext["param_config"] and
//	    read back.
//
// send_switch and use_project_notice accept JSON booleans and the strings
// "true" and "false" (the page types them as strings, its example sends
// booleans). Absent, they change nothing; an absent param_config changes no
// recipient. Event types of the channel other than the five are kept.
//
// GET answers one item per notice type, in the order above, the types
// without a notifier or channel too: enable_map holds all five events
// (switched-off ones false) and param_config the receivers as a JSON
// string. Like the vendor's answer it carries neither send_switch nor
// use_project_notice; the native API shows both.
//
// # Errors
//
// Errors are {"error_code": "…", "error_msg": "…"}, for every method and
// every path under /v1/job/. The CB codes marked vendor are from CodeArts
// Build's error code page; the others are Herald's, in the same series,
// for cases that page does not list.
//
//	400 CB.00060200  invalid parameter (bad JSON, unknown notice type or
//	                 event, bad param_config, missing notifier)   vendor
//	400 CB.00060201  invalid task ID (job_id not 32 letters/digits) vendor
//	403 CB.00060403  the token lacks settings:read / settings:write Herald
//	404 CB.00060214  the build task does not exist                 vendor (404 on that page)
//	500 CB.00060100  busy (concurrent writers kept the revision moving); try again  vendor
//	500 CB.00060211  too many requests; try again later            vendor
//	500 CB.00060101  internal error                                vendor
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
//	               serve (DELETE on a notice): the gateway has no 405, a
//	               method no API defines is an API that does not exist,
//	               and it sends no Allow header
//	404 APIG.0101  "The API does not exist or has not been published in
//	               the environment."  any other path under /v1/job/
//	413 APIG.0201  "Request entity too large."  a body over 1 MiB
//
// The gateway's answers also carry a request_id member; Herald's do not,
// keeping every error body to the two members the service documents.
//
// Unknown members of a PUT body are ignored, at any depth, as the Java
// service behind the vendor's API does (Jackson with
// FAIL_ON_UNKNOWN_PROPERTIES off): a client sending more than the page
// lists, job_id included, is not refused. Members the page lists are
// checked as above.
package codeartsbuild
