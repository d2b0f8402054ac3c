// The shared QIP board: goals and their tasks by status, create a goal or task, update a
// task with its version (a conflict is shown, never overwritten), notes, PD plans, the
// activity log and the audit log.

import { codeOf, download, gql, gqlUpload } from "../api.js";
import { clear, field, h, money, notice, orDash, panel, say, select, table } from "../ui.js";
import { errorList, sourceBanner, startData } from "./common.js";

const STATUSES = [
  ["NOT_STARTED", "Not started"],
  ["IN_PROGRESS", "In progress"],
  ["DONE", "Done"],
  ["DROPPED", "Dropped"],
];

function key() {
  return `app-${crypto.getRandomValues(new Uint32Array(2)).join("-")}`;
}

function fileButtons(files) {
  return files.map((f) =>
    h("button", { type: "button", className: "link", onClick: () => download(f.id, f.filename).catch((e) => alert(e.message)) }, `${f.filename} (${Math.ceil(f.sizeBytes / 1024)} KB)`),
  );
}

/** Attach a file to the program or one of its tasks (uploadFile, multipart). */
function uploadForm(programId, subjectType, subjectId, reload) {
  const message = h("div");
  const input = h("input", { name: "file", type: "file", required: true });
  const idempotency = key();
  return h(
    "form",
    {
      className: "upload",
      onSubmit: async (event) => {
        event.preventDefault();
        const file = input.files[0];
        if (!file) return;
        const { errors } = await gqlUpload("UploadFile", { programId, subjectType, subjectId, key: `${idempotency}-${file.name}` }, "file", file);
        if (errors.length) clear(message, errorList(errors));
        else {
          say(`File ${file.name} attached`);
          await reload();
        }
      },
    },
    field("File", input),
    h("button", { type: "submit" }, "Attach"),
    message,
  );
}

/**
 * A stale save: nothing was written. Shows the task as it is now next to the user's change;
 * the user keeps theirs (reload) or applies the change on top of the current version, a
 * decision made knowingly, never an overwrite behind anyone's back.
 */
async function showConflict(task, patch, currentVersion, message, reload) {
  const { data } = await gql("ProgramWork", { id: task.programId });
  const now = (data?.program?.qip?.goals ?? []).flatMap((g) => g.tasks).find((t) => t.id === task.id);
  const describe = (t) => `status ${t.status}, ${t.minutesSpent} min, owner ${orDash(t.owner)}`;
  clear(
    message,
    h(
      "div",
      { className: "notice error", role: "alert" },
      h("p", {}, `Someone else changed this task (now version ${currentVersion}); your change was not saved.`),
      now ? h("p", {}, `Now: ${describe(now)} (by ${now.updatedBy}).`) : null,
      h("p", {}, `Yours: ${describe({ ...task, ...patch })}.`),
      h("button", { type: "button", onClick: reload }, "Keep theirs"),
      " ",
      h(
        "button",
        {
          type: "button",
          onClick: async () => {
            const again = await gql("UpdateQipTask", { id: task.id, version: currentVersion, patch });
            if (again.errors.length) clear(message, errorList(again.errors));
            else {
              say(`Your change applied on version ${currentVersion}`);
              await reload();
            }
          },
        },
        `Apply mine on version ${currentVersion}`,
      ),
    ),
  );
  say("Version conflict: your change was not saved");
}

function taskCard(task, programId, reload) {
  const message = h("div", { className: "card-message" });
  const status = select("status", STATUSES, task.status);
  const minutes = h("input", { name: "minutesSpent", type: "number", min: "0", value: String(task.minutesSpent) });
  const owner = h("input", { name: "owner", value: task.owner ?? "" });
  task = { ...task, programId };
  const form = h(
    "form",
    {
      className: "task-edit",
      onSubmit: async (event) => {
        event.preventDefault();
        const patch = { status: status.value, minutesSpent: Number(minutes.value), owner: owner.value || null };
        const { data, errors } = await gql("UpdateQipTask", { id: task.id, version: task.version, patch });
        const conflict = errors.find((e) => codeOf(e) === "VERSION_CONFLICT");
        if (conflict) {
          await showConflict(task, patch, conflict.extensions.currentVersion, message, reload);
        } else if (errors.length) {
          clear(message, errorList(errors));
        } else {
          say(`Task saved (version ${data.updateQipTask.version})`);
          await reload();
        }
      },
    },
    field("Status", status),
    field("Minutes spent", minutes),
    field("Owner", owner),
    h("button", { type: "submit" }, "Save"),
  );
  return h(
    "li",
    { className: "card", "data-task": task.id },
    h("h4", {}, task.title),
    h("p", { className: "sub" }, `${orDash(task.owner)} · due ${orDash(task.dueDate)} · ${task.minutesSpent} min · ${orDash(task.supportType)} · v${task.version}`),
    task.funding.length ? h("p", {}, "Funding: ", money(task.funding)) : null,
    task.notes.length ? h("ul", { className: "notes" }, task.notes.map((n) => h("li", {}, `${n.body} — ${n.author}`))) : null,
    task.files.length ? h("p", { className: "files" }, "Files: ", fileButtons(task.files)) : null,
    h("details", {}, h("summary", {}, "Update"), form),
    h("details", {}, h("summary", {}, "Attach a file"), uploadForm(programId, "TASK", task.id, reload)),
    h("details", {}, h("summary", {}, "Add a note"), noteForm(programId, reload, "TASK", task.id)),
    message,
  );
}

function newTaskForm(goal, supportTypes, reload) {
  const message = h("div");
  const title = h("input", { name: "title", required: true });
  const owner = h("input", { name: "owner" });
  const due = h("input", { name: "dueDate", type: "date" });
  const support = select("supportType", [["", "None"], ...supportTypes.map((t) => [t.code, t.name])]);
  const idempotency = key();
  return h(
    "form",
    {
      className: "new-task",
      onSubmit: async (event) => {
        event.preventDefault();
        const input = { title: title.value, owner: owner.value || null, dueDate: due.value || null, supportType: support.value || null };
        const { errors } = await gql("CreateQipTask", { goalId: goal.id, input, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else {
          say(`Task "${input.title}" added`);
          await reload();
        }
      },
    },
    h("h4", {}, `New task for “${goal.title}”`),
    field("Title", title),
    field("Owner", owner),
    field("Due date", due),
    field("Support type", support),
    h("button", { type: "submit", className: "primary" }, "Add task"),
    message,
  );
}

function goalSection(goal, programId, supportTypes, reload) {
  return h(
    "section",
    { className: "goal", "aria-label": `Goal: ${goal.title}` },
    h("h3", {}, goal.title, h("span", { className: "sub" }, ` · ${goal.status} · target ${orDash(goal.targetDate)} · ${goal.supportTypes.join(", ")}`)),
    h(
      "div",
      { className: "board" },
      STATUSES.map(([code, label]) => {
        const tasks = goal.tasks.filter((t) => t.status === code);
        return h("div", { className: "column", "aria-label": label }, h("h4", { className: "column-title" }, `${label} (${tasks.length})`), h("ul", {}, tasks.map((t) => taskCard(t, programId, reload))));
      }),
    ),
    h("details", {}, h("summary", {}, "Add a task"), newTaskForm(goal, supportTypes, reload)),
  );
}

function newGoalForm(programId, reload) {
  const message = h("div");
  const title = h("input", { name: "title", required: true });
  const target = h("input", { name: "targetDate", type: "date" });
  const idempotency = key();
  return h(
    "form",
    {
      onSubmit: async (event) => {
        event.preventDefault();
        const { errors } = await gql("CreateQipGoal", { programId, input: { title: title.value, targetDate: target.value || null }, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else await reload();
      },
    },
    field("Goal", title),
    field("Target date", target),
    h("button", { type: "submit" }, "Add goal"),
    message,
  );
}

function noteForm(programId, reload, subjectType = "PROGRAM", subjectId = programId) {
  const message = h("div");
  const body = h("textarea", { name: "body", required: true, rows: "3" });
  const visibility = select("visibility", [["TEAM", "Team"], ["PROGRAM", "Program (providers too)"], ["PRIVATE", "Only me"]], "TEAM");
  const idempotency = key();
  return h(
    "form",
    {
      onSubmit: async (event) => {
        event.preventDefault();
        const input = { subjectType, subjectId, body: body.value, visibility: visibility.value };
        const { errors } = await gql("CreateNote", { programId, input, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else await reload();
      },
    },
    field("Note", body),
    field("Visible to", visibility),
    h("button", { type: "submit" }, "Add note"),
    message,
  );
}

function activityForm(programId, supportTypes, reload) {
  const message = h("div");
  const kind = select("kind", [["SITE_VISIT", "Site visit"], ["COACHING", "Coaching"], ["TRAINING", "Training"], ["PHONE_VIRTUAL", "Phone or virtual"], ["OTHER", "Other"]], "SITE_VISIT");
  const when = h("input", { name: "occurredAt", type: "date", required: true });
  const minutes = h("input", { name: "minutes", type: "number", min: "0", required: true, value: "60" });
  const support = select("supportType", [["", "None"], ...supportTypes.map((t) => [t.code, t.name])]);
  const summary = h("input", { name: "summary" });
  const idempotency = key();
  return h(
    "form",
    {
      className: "new-task",
      onSubmit: async (event) => {
        event.preventDefault();
        const input = { kind: kind.value, occurredAt: `${when.value}T12:00:00Z`, minutes: Number(minutes.value), supportType: support.value || null, summary: summary.value };
        const { errors } = await gql("LogActivity", { programId, input, key: idempotency });
        if (errors.length) clear(message, errorList(errors));
        else await reload();
      },
    },
    field("Kind", kind),
    field("Date", when),
    field("Minutes", minutes),
    field("Support type", support),
    field("Summary", summary),
    h("button", { type: "submit" }, "Log activity"),
    message,
  );
}

/** The activity log (hub and sector entries), filtered by support type in the page. */
function activityPanel(p, supportTypes, reload) {
  const entries = p.activity ?? [];
  const body = h("div");
  const show = (code) =>
    clear(
      body,
      table(
        "Visits, coaching and other activity",
        ["Date", "Kind", "Support type", "Minutes", "Summary", "By", "Source"],
        entries.filter((a) => !code || a.supportType === code).map((a) => [orDash(a.occurredOn), orDash(a.kind), orDash(a.supportType), orDash(a.minutes), orDash(a.summary), orDash(a.author), a.source]),
      ),
    );
  const filter = select("activitySupportType", [["", "All support types"], ...supportTypes.map((t) => [t.code, t.name])]);
  filter.addEventListener("change", () => show(filter.value));
  show("");
  return panel(
    "Activity log",
    field("Show", filter),
    body,
    h("details", {}, h("summary", {}, "Log an activity"), activityForm(p.id, supportTypes, reload)),
  );
}

/** What an audited object is, in words: its title, file name or (the start of) its body. */
function auditSubject(after) {
  if (!after || typeof after !== "object") return "—";
  const text = after.title ?? after.filename ?? after.body ?? after.summary ?? "";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text || "—";
}

async function auditPanel(programId) {
  const { data, errors } = await gql("ProgramAudit", { programId });
  const entries = data?.audit?.entries ?? [];
  return panel(
    "Audit log",
    errorList(errors),
    table("Who changed what", ["When", "Who", "Action", "Object", "What", "Fields"], entries.map((e) => [e.at.replace("T", " ").slice(0, 19), e.actor, e.action, e.objectType, auditSubject(e.after), e.changedFields.join(", ")])),
  );
}

export async function renderQip(main, programId) {
  const reload = () => renderQip(main, programId);
  const [start, work] = await Promise.all([startData(), gql("ProgramWork", { id: programId })]);
  const { data, errors } = work;
  const p = data?.program;
  if (!p) {
    clear(main, h("h1", {}, "QIP"), errorList(errors) ?? notice("error", "No such program."));
    return;
  }
  const qip = p.qip;
  const summary = p.supportSummary;
  const audit = await auditPanel(programId);
  const staffNames = new Map((p.staff ?? []).map((s) => [s.id, s.name]));
  clear(
    main,
    h("h1", {}, `${orDash(p.name)}: the shared QIP`),
    h("nav", { className: "tabs", "aria-label": "Program" }, h("a", { href: `#/program/${encodeURIComponent(p.id)}` }, "Profile"), h("a", { href: `#/program/${encodeURIComponent(p.id)}/qip`, "aria-current": "page" }, "QIP, notes and activity")),
    sourceBanner(errors),
    errorList(errors),
    qip ? h("p", { className: "sub" }, `${qip.title} · version ${qip.version}`) : notice("info", "No QIP yet: add a first goal."),
    ...(qip?.goals ?? []).map((g) => goalSection(g, p.id, start.supportTypes, reload)),
    h("details", { className: "panel" }, h("summary", {}, "Add a goal"), newGoalForm(p.id, reload)),
    h(
      "div",
      { className: "grid" },
      panel(
        "PD plans",
        table("Professional development plans", ["Staff", "Credential target", "Hours (done / planned)", "Trainings"], (qip?.pdPlans ?? []).map((d) => [staffNames.get(d.staffId) ?? d.staffId, orDash(d.credentialTarget), `${d.completedHours} / ${d.plannedHours}`, d.trainings.map((t) => `${t.title} (${t.status})`).join("; ") || "—"])),
      ),
      panel(
        "Support by sector",
        summary
          ? table("Support given, per support type and all together", ["Support type", "Visits", "Hours", "Tasks open", "Tasks done", "Staff supported", "Funding", "Last contact"], [...summary.bySupportType, { ...summary.total, supportType: "All together" }].map((t) => [orDash(t.supportType), t.visits, t.hours, t.qipTasksOpen, t.qipTasksDone, t.staffSupported, money(t.funding), orDash(t.lastContact)]))
          : null,
      ),
      panel("Notes", h("ul", { className: "notes" }, (p.notes ?? []).map((n) => h("li", {}, h("p", {}, n.body), h("p", { className: "sub" }, `${n.author} · ${n.visibility} · ${n.createdAt.slice(0, 10)}`)))), noteForm(p.id, reload)),
      panel("Files", h("p", { className: "files" }, fileButtons(p.files ?? [])), uploadForm(p.id, "PROGRAM", p.id, reload)),
      activityPanel(p, start.supportTypes, reload),
      audit,
    ),
  );
}
