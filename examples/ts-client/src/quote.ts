// Log in, price a quote, read it back, and read the typed error of a bad request, with a client
// whose types are generated from the committed contract (openapi/openapi.json). `make
// check-client` only type-checks this file; to run it against a live service:
//   LPL_BASE_URL=http://127.0.0.1:8000 LPL_USERNAME=98765A LPL_PASSWORD='...' npx tsx src/quote.ts
import createClient from "openapi-fetch";

import type { components, paths } from "./api";

type Problem = components["schemas"]["Problem"];
type QuoteRead = components["schemas"]["QuoteRead"];

// Node's environment, declared here so the example needs no @types/node.
declare const process: { env: Record<string, string | undefined>; exitCode?: number };

const baseUrl = process.env.LPL_BASE_URL ?? "http://127.0.0.1:8000";
const username = process.env.LPL_USERNAME ?? "98765A";
const password = process.env.LPL_PASSWORD ?? "correct horse battery staple lawyer";

function describe(problem: Problem): string {
  // `errors` is absent unless the input was invalid; each entry names a field and a stable code.
  const first = problem.errors?.[0];
  const field: string | undefined = first?.field;
  const code: string | undefined = first?.code;
  const summary = `${problem.status} ${problem.title}: ${problem.detail}`;
  return first ? `${summary} (${field}: ${code})` : summary;
}

async function main(): Promise<void> {
  // 1. Log in: POST /auth/token is form-encoded (OAuth2 password grant) and answers a TokenRead.
  const anonymous = createClient<paths>({ baseUrl });
  const login = await anonymous.POST("/auth/token", {
    body: { grant_type: "password", username, password },
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  if (login.error) {
    throw new Error(`login failed: ${describe(login.error)}`);
  }
  const token: string = login.data.access_token;
  const expiresIn: number = login.data.expires_in;
  console.log(`logged in as ${username}; the session ends after ${expiresIn} s idle`);

  // 2. Every further call carries the bearer token.
  const api = createClient<paths>({ baseUrl, headers: { Authorization: `Bearer ${token}` } });

  // 3. Price a quote: only program_year and effective_date are required; the rest take the
  //    standard program's values.
  const created = await api.POST("/quotes", {
    body: { program_year: 2025, effective_date: "2025-01-01", payment_plan: "quarterly" },
  });
  if (created.error) {
    throw new Error(`quote failed: ${describe(created.error)}`);
  }
  const quoteId: string = created.data.id;

  // 4. Read it back. Money is a decimal string ("1234.56"), never a binary float.
  const read = await api.GET("/quotes/{quote_id}", { params: { path: { quote_id: quoteId } } });
  if (read.error) {
    throw new Error(`reading quote ${quoteId} failed: ${describe(read.error)}`);
  }
  const quote: QuoteRead = read.data;
  const total: string = quote.total;
  const instalments: string[] = quote.instalments.map((instalment) => instalment.amount);
  console.log(`quote ${quote.id}: ${quote.payment_plan}, total ${total}`);
  console.log(`instalments: ${instalments.join(" + ")}`);

  // 5. A bad request: a program year without an active rate table. The error is the contract's
  //    Problem (application/problem+json), typed without casts.
  const bad = await api.POST("/quotes", {
    body: { program_year: 2031, effective_date: "2031-01-01" },
  });
  if (bad.error === undefined) {
    throw new Error("a quote for 2031 was priced; expected a problem");
  }
  const problem: Problem = bad.error;
  const field: string | undefined = problem.errors?.[0]?.field;
  const code: string | undefined = problem.errors?.[0]?.code;
  console.log(`refused as expected (${bad.response.status}): ${problem.type}`);
  console.log(`first error: field=${field} code=${code}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
