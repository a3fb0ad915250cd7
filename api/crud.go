package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/heraldhq/herald"
)

// The generic handlers below serve every object kind the same way:
// GET by id, POST (201 with the object), PATCH (the body is decoded onto
// the current object, so only the fields sent change) and DELETE (204).

// finder loads one object of the context's tenant (and project scope).
type finder[T any] func(ctx context.Context, id int64) (*T, error)

func handleGet[T any](find finder[T]) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		v, err := find(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, v)
	}
}

// handleCreate decodes a new object. parent, when set, checks the parent in
// the path before the body is read (a foreign parent is 404 whatever the
// body) and returns its id; set then puts what the server decides (no id,
// no timestamps, the parent) over what the client sent.
func handleCreate[T any](parent func(r *http.Request) (int64, error), set func(v *T, parentID int64), create func(context.Context, *T) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var parentID int64
		if parent != nil {
			id, err := parent(r)
			if err != nil {
				return err
			}
			parentID = id
		}
		v := new(T)
		if err := decode(w, r, v); err != nil {
			return err
		}
		set(v, parentID)
		if err := create(r.Context(), v); err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, v)
	}
}

// handlePatch loads the object, applies the body to it as a JSON Merge
// Patch (RFC 7396), lets fix put back the fields a PATCH cannot change,
// validates and saves.
func handlePatch[T any](find finder[T], fix func(cur, next *T), update func(context.Context, *T) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		cur, err := find(r.Context(), id)
		if err != nil {
			return err
		}
		next, err := mergePatch(w, r, cur)
		if err != nil {
			return err
		}
		fix(cur, next)
		if err := update(r.Context(), next); err != nil {
			return err
		}
		// Answer what was stored, not what was asked for.
		saved, err := find(r.Context(), id)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, saved)
	}
}

// handleDelete deletes by id; find, when set, is called first so that an
// object outside the principal's project scope is 404.
func handleDelete[T any](find finder[T], del func(context.Context, int64) error) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		if find != nil {
			if _, err := find(r.Context(), id); err != nil {
				return err
			}
		}
		if err := del(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// notFound is the error for an object outside the principal's project
// scope: the same answer as for one that does not exist.
func notFound(kind string, id int64) error {
	return herald.Errorf(herald.ENOTFOUND, "", "%s %d not found", kind, id)
}

// principalOf returns the request's principal; routes that reach a
// handler always have one.
func principalOf(ctx context.Context) *herald.Principal {
	return herald.PrincipalFromContext(ctx)
}

// mergePatch applies the request body to cur as a JSON Merge Patch (RFC
// 7396): members sent replace the current ones, objects merge member by
// member, and null removes a member (so one HTTP header of a notifier can
// be dropped). The result is decoded strictly into a new value, so unknown
// members and wrong types are refused as in any other body.
func mergePatch[T any](w http.ResponseWriter, r *http.Request, cur *T) (*T, error) {
	var patch json.RawMessage
	if err := decode(w, r, &patch); err != nil {
		return nil, err
	}
	base, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	merged, err := mergeJSON(base, patch)
	if err != nil {
		return nil, err
	}
	next := new(T)
	if err := decodeJSON(bytes.NewReader(merged), next, false); err != nil {
		return nil, err
	}
	return next, nil
}

// mergeJSON merges patch into target as RFC 7396 describes.
func mergeJSON(target, patch json.RawMessage) (json.RawMessage, error) {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(patch, &p); err != nil || p == nil {
		return patch, nil // not an object: it replaces the target
	}
	var t map[string]json.RawMessage
	if err := json.Unmarshal(target, &t); err != nil || t == nil {
		t = map[string]json.RawMessage{}
	}
	for k, v := range p {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(t, k)
			continue
		}
		m, err := mergeJSON(t[k], v)
		if err != nil {
			return nil, err
		}
		t[k] = m
	}
	return json.Marshal(t)
}
