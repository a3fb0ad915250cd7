set -eu
: "${HERALD_URL:?export HERALD_URL, e.g. http://127.0.0.1:8080}"
: "${HERALD_TOKEN:?export HERALD_TOKEN=\$(cat herald-data/admin.token)}"
: "${WEBHOOK_URL:?export WEBHOOK_URL, a URL that accepts POST requests}"
api() { curl -sS --fail-with-body -H "Authorization: Bearer $HERALD_TOKEN" -H 'Content-Type: application/json' "$@"; }

# 1. A project, and a source in it: the build job whose events we post.
PROJECT=$(api -d '{"name": "payments"}' "$HERALD_URL/api/v1/projects" | jq .id)
SOURCE=$(api -d '{"kind": "build_job", "external_id": "0123456789abcdef0123456789abcdef", "name": "nightly"}' \
  "$HERALD_URL/api/v1/projects/$PROJECT/sources" | jq .id)

# 2. Two notifiers: the in-app inbox, and a signed webhook.
INBOX=$(api -d '{"type": "inbox", "name": "inbox"}' "$HERALD_URL/api/v1/projects/$PROJECT/notifiers" | jq .id)
HOOK=$(api -d "{\"type\": \"webhook\", \"name\": \"ops\", \"config\": {\"url\": \"$WEBHOOK_URL\"},
  \"secret\": \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"}" "$HERALD_URL/api/v1/projects/$PROJECT/notifiers" | jq .id)

# 3. A recipient.
api -d '{"code": "alice", "name": "Alice", "email": "alice@example.com"}' "$HERALD_URL/api/v1/users"

# 4. The source's draft settings: on build.failed, the creator's inbox and the webhook.
api -X PUT "$HERALD_URL/api/v1/sources/$SOURCE/settings" -d "{\"channels\": [
  {\"notifier_id\": $INBOX, \"enabled\": true,
   \"events\": [{\"type\": \"build.failed\", \"enabled\": true,
                \"recipients\": [{\"type\": \"FIELD_ENTITY\", \"code\": \"creator\"}]}]},
  {\"notifier_id\": $HOOK, \"enabled\": true,
   \"events\": [{\"type\": \"build.failed\", \"enabled\": true}]}]}"

# 5. Deploy the draft.
api -X POST "$HERALD_URL/api/v1/sources/$SOURCE/settings/deploy"

# 6. Post an event.
EVENT=$(api -d '{"source": {"kind": "build_job", "external_id": "0123456789abcdef0123456789abcdef"},
  "type": "build.failed", "creator": "alice"}' "$HERALD_URL/api/v1/events" | jq .id)

# 7. See the deliveries once both are sent (within 30 s).
for _ in $(seq 30); do
  api "$HERALD_URL/api/v1/deliveries?event_id=$EVENT&status=delivered" | jq -e '.items | length == 2' >/dev/null && break
  sleep 1
done
api "$HERALD_URL/api/v1/deliveries?event_id=$EVENT"
