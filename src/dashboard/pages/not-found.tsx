import { hrefs } from '../router';

export function NotFound({ path }: { path: string }) {
  return (
    <>
      <h1 id="page-title" tabIndex={-1}>
        Not found
      </h1>
      <p>
        Nothing lives at <code>{path}</code>. Go to the <a href={hrefs.overview()}>overview</a>.
      </p>
    </>
  );
}
