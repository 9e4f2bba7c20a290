import { useEffect, useState } from 'preact/hooks';
import { TASK_STATES } from '../api/types';
import { isoToLocal, localToIso, type TaskFilters } from '../pages/task-filters';

/** The filters of the task list; Apply hands them over (times already ISO UTC). */
export function TaskFilterForm({
  filters,
  onApply,
}: {
  filters: TaskFilters;
  onApply: (filters: TaskFilters) => void;
}) {
  const [state, setState] = useState(filters.state);
  const [type, setType] = useState(filters.type);
  const [since, setSince] = useState(isoToLocal(filters.since));
  const [until, setUntil] = useState(isoToLocal(filters.until));
  const [q, setQ] = useState(filters.q);

  // The route changed under the form (back button, a shared link): show what it says.
  useEffect(() => {
    setState(filters.state);
    setType(filters.type);
    setSince(isoToLocal(filters.since));
    setUntil(isoToLocal(filters.until));
    setQ(filters.q);
  }, [filters.state, filters.type, filters.since, filters.until, filters.q]);

  return (
    <form
      class="filters"
      aria-label="Filter tasks"
      onSubmit={(event) => {
        event.preventDefault();
        onApply({
          state,
          type: type.trim(),
          since: localToIso(since),
          until: localToIso(until),
          q: q.trim(),
        });
      }}
    >
      <div class="field">
        <label for="f-state">State</label>
        <select id="f-state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
          <option value="">any</option>
          {/* A shared link may ask for several (state=failed,poisoned): show that too. */}
          {state !== '' && !(TASK_STATES as readonly string[]).includes(state) && (
            <option value={state}>{state}</option>
          )}
          {TASK_STATES.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </div>
      <div class="field">
        <label for="f-type">Type</label>
        <input
          id="f-type"
          type="text"
          value={type}
          autoCapitalize="off"
          spellcheck={false}
          onInput={(e) => setType(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="f-since">Since</label>
        <input
          id="f-since"
          type="datetime-local"
          value={since}
          onInput={(e) => setSince(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for="f-until">Until</label>
        <input
          id="f-until"
          type="datetime-local"
          value={until}
          onInput={(e) => setUntil(e.currentTarget.value)}
        />
      </div>
      <div class="field wide">
        <label for="f-q">Search</label>
        <input
          id="f-q"
          type="text"
          placeholder="task id, or field=value"
          value={q}
          autoCapitalize="off"
          spellcheck={false}
          onInput={(e) => setQ(e.currentTarget.value)}
        />
      </div>
      <div class="field submit">
        <button type="submit">Apply</button>
      </div>
    </form>
  );
}
