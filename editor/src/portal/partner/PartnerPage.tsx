/** The partner's own view (its subscriptions, keys and usage): a placeholder until partner sign-in lands. */
export function PartnerPage() {
  return (
    <main className="portal-main">
      <h1>Partner sign-in</h1>
      <p className="muted">Partners will sign in here with one of their credentials.</p>
    </main>
  );
}
