package console

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldhq/herald"
)

// principal is the signed-in principal of ctx.
func principal(ctx context.Context) *herald.Principal { return herald.PrincipalFromContext(ctx) }

// can reports whether the signed-in principal may do act on res, by the
// policy the services enforce: the page shows only what will work.
func can(ctx context.Context, res herald.Resource, act herald.Action) bool {
	_, err := herald.Authorize(ctx, res, act)
	return err == nil
}

// findProject loads a project (one outside the principal's scope is not
// found: the services decide).
func (c *Console) findProject(ctx context.Context, id int64) (*herald.Project, error) {
	return c.Projects.FindProjectByID(ctx, id)
}

// findSource loads a source of project pid; one of another project is not
// found under this page's path.
func (c *Console) findSource(ctx context.Context, pid, sid int64) (*herald.Source, error) {
	s, err := c.Sources.FindSourceByID(ctx, sid)
	if err != nil {
		return nil, err
	}
	if s.ProjectID != pid {
		return nil, herald.NotFound("source", sid)
	}
	return s, nil
}

// findNotifier loads a notifier, redacted.
func (c *Console) findNotifier(ctx context.Context, id int64) (*herald.Notifier, error) {
	return c.Notifiers.FindNotifierByID(ctx, id)
}

type projectsData struct {
	Projects []*herald.Project
	Next     string
	CanWrite bool
}

func (c *Console) handleProjects(w http.ResponseWriter, r *http.Request, v *view) error {
	ps, next, err := c.Projects.FindProjects(r.Context(), pageOf(r, "cursor"))
	if err != nil {
		return err
	}
	d := projectsData{Projects: ps, CanWrite: can(r.Context(), herald.ResProject, herald.ActCreate)}
	if next != "" {
		d.Next = withQuery(r, "cursor", next)
	}
	return c.page(w, "projects", "Projects", v, d)
}

func (c *Console) handleCreateProject(w http.ResponseWriter, r *http.Request, v *view) error {
	p := &herald.Project{Name: strings.TrimSpace(r.PostForm.Get("name")), Description: strings.TrimSpace(r.PostForm.Get("description"))}
	if err := c.Projects.CreateProject(r.Context(), p); err != nil {
		return c.invalid(w, r, v, err, "new-project", []string{"name", "description"}, "/console/", c.handleProjects)
	}
	return redirect(w, r, "/console/projects/"+strconv.FormatInt(p.ID, 10), "Project created.")
}

type projectData struct {
	Project      *herald.Project
	Sources      []*herald.Source
	NextSources  string
	Notifiers    []*herald.Notifier
	NextNotifier string
	Kinds        []string
	CanWrite     bool
	CanNotifiers bool
	CanDelete    bool
	CanEdit      bool
	// FirstRun is the path to a first notification (firstrun.go).
	FirstRun *firstRun
}

func (c *Console) handleProject(w http.ResponseWriter, r *http.Request, v *view) error {
	pid, err := pathID(r, "pid", false)
	if err != nil {
		return err
	}
	ctx := r.Context()
	pr, err := c.findProject(ctx, pid)
	if err != nil {
		return err
	}
	d := projectData{Project: pr, Kinds: []string{herald.SourceGeneric, herald.SourceBuildJob, herald.SourceApplication, herald.SourceApp},
		CanWrite: can(ctx, herald.ResSettings, herald.ActUpdate), CanNotifiers: can(ctx, herald.ResNotifier, herald.ActCreate),
		CanDelete: can(ctx, herald.ResProject, herald.ActDelete), CanEdit: can(ctx, herald.ResProject, herald.ActUpdate)}
	var next string
	if d.Sources, next, err = c.Sources.FindSources(ctx, herald.SourceFilter{ProjectID: pid}, pageOf(r, "sources")); err != nil {
		return err
	}
	if next != "" {
		d.NextSources = withQuery(r, "sources", next)
	}
	if d.Notifiers, next, err = c.Notifiers.FindNotifiers(ctx, herald.NotifierFilter{ProjectID: pid}, pageOf(r, "notifiers")); err != nil {
		return err
	}
	if next != "" {
		d.NextNotifier = withQuery(r, "notifiers", next)
	}
	if d.FirstRun, err = c.loadFirstRun(ctx, &d); err != nil {
		return err
	}
	return c.page(w, "project", pr.Name, v, d)
}

func (c *Console) handleCreateSource(w http.ResponseWriter, r *http.Request, v *view) error {
	pid, err := pathID(r, "pid", false)
	if err != nil {
		return err
	}
	if _, err := c.findProject(r.Context(), pid); err != nil {
		return err
	}
	s := &herald.Source{ProjectID: pid, Kind: r.PostForm.Get("kind"), Name: strings.TrimSpace(r.PostForm.Get("name")),
		ExternalID: strings.TrimSpace(r.PostForm.Get("external_id")), SpaceID: strings.TrimSpace(r.PostForm.Get("space_id"))}
	if err := c.Sources.CreateSource(r.Context(), s); err != nil {
		return c.invalid(w, r, v, err, "new-source", []string{"name", "kind", "external_id", "space_id"},
			"/console/projects/"+strconv.FormatInt(pid, 10), c.handleProject)
	}
	return redirect(w, r, sourcePath(pid, s.ID), "Source created.")
}

// handleUpdateProject saves a project's name, description and the
// origins whose pages may embed its inbox (one per line); the domain
// checks and normalises them.
func (c *Console) handleUpdateProject(w http.ResponseWriter, r *http.Request, v *view) error {
	pid, err := pathID(r, "pid", false)
	if err != nil {
		return err
	}
	pr, err := c.findProject(r.Context(), pid)
	if err != nil {
		return err
	}
	pr.Name = strings.TrimSpace(r.PostForm.Get("name"))
	pr.Description = strings.TrimSpace(r.PostForm.Get("description"))
	pr.AllowedOrigins = nil
	for _, o := range strings.Split(r.PostForm.Get("allowed_origins"), "\n") {
		if o = strings.TrimSpace(o); o != "" {
			pr.AllowedOrigins = append(pr.AllowedOrigins, o)
		}
	}
	if err := c.Projects.UpdateProject(r.Context(), pr); err != nil {
		return c.invalid(w, r, v, err, "edit-project", []string{"name", "description", "allowed_origins"},
			"/console/projects/"+strconv.FormatInt(pid, 10), c.handleProject)
	}
	return redirect(w, r, "/console/projects/"+strconv.FormatInt(pid, 10), "Project saved.")
}

// handleDeleteProject deletes a project, with its events and deliveries,
// once the person has typed its name: the typed name is the confirmation
// the API asks for with ?force=true.
func (c *Console) handleDeleteProject(w http.ResponseWriter, r *http.Request, v *view) error {
	pid, err := pathID(r, "pid", false)
	if err != nil {
		return err
	}
	pr, err := c.findProject(r.Context(), pid)
	if err != nil {
		return err
	}
	if strings.TrimSpace(r.PostForm.Get("confirm")) != pr.Name {
		return herald.Errorf(herald.EINVALID, "", "To delete the project, type its name exactly as shown.")
	}
	if err := c.Projects.DeleteProject(r.Context(), pid, true); err != nil {
		return err
	}
	return redirect(w, r, "/console/", "Project deleted.")
}

// sourcePath is the matrix page of a source (sid 0: the project default).
func sourcePath(pid, sid int64) string {
	return "/console/projects/" + strconv.FormatInt(pid, 10) + "/sources/" + strconv.FormatInt(sid, 10)
}
