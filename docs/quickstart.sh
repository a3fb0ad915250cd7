set -eu
: "${HERALD_URL:?export HERALD_URL, e.g. http://127.0.0.1:8080}"
: "${HERALD_TOKEN:?export HERALD_TOKEN=\$(cat herald-data/admin.token)}"
: "${WEBHOOK_URL:?export WEBHOOK_URL, a URL that accepts POST requests}"

# 1. A project, and a source in it: the build job whose events we post.
PROJECT=$(herald project create --name payments)
SOURCE=$(herald source create --project "$PROJECT" --kind build_job \
  --external-id 0123456789abcdef0123456789abcdef --name nightly)

# 2. Two notifiers: the in-app inbox, and a webhook signed with a
#    Standard Webhooks secret (whsec_ + base64 of a key).
INBOX=$(herald notifier create --project "$PROJECT" --type inbox --name inbox)
HOOK=$(herald notifier create --project "$PROJECT" --type webhook --name ops \
  --url "$WEBHOOK_URL" --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw)

# 3. A recipient.
herald user create --code alice --name Alice --email alice@example.com

# 4. The source's settings (a draft): on build.failed, tell the build's
#    creator in the inbox, and post to the webhook.
herald settings set --source "$SOURCE" --file - <<JSON
{"channels": [
  {"notifier_id": $INBOX, "enabled": true,
   "events": [{"type": "build.failed", "enabled": true,
               "recipients": [{"type": "FIELD_ENTITY", "code": "creator"}]}]},
  {"notifier_id": $HOOK, "enabled": true,
   "events": [{"type": "build.failed", "enabled": true}]}
]}
JSON

# 5. Deploy the draft: events read the live settings.
herald settings deploy --source "$SOURCE"

# 6. Post an event: build.failed on the nightly job, created by alice.
EVENT=$(herald event post --kind build_job --external-id 0123456789abcdef0123456789abcdef \
  --type build.failed --role creator=alice | cut -d' ' -f2)

# 7. See the deliveries: one to alice's inbox, one to the webhook.
herald event show "$EVENT" --wait 30s
