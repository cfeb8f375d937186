// Proof that the generated types bite: each line under `@ts-expect-error` must be a type error,
// and `tsc` fails if one of them compiles (after a change to the contract or the generator).
// Nothing here runs.
import createClient from "openapi-fetch";

import type { components, paths } from "./api";

type Problem = components["schemas"]["Problem"];
type QuoteCreate = components["schemas"]["QuoteCreate"];
type QuoteRead = components["schemas"]["QuoteRead"];

const api = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });

export const wrongDeductible: QuoteCreate = {
  program_year: 2025,
  effective_date: "2025-01-01",
  // @ts-expect-error "3000_combined" is not one of the Deductible options
  deductible: "3000_combined",
};

export const wrongPlan: QuoteCreate = {
  program_year: 2025,
  effective_date: "2025-01-01",
  // @ts-expect-error "yearly" is not a PaymentPlan
  payment_plan: "yearly",
};

// @ts-expect-error effective_date is required
export const noEffectiveDate: QuoteCreate = { program_year: 2025 };

export const unknownField: QuoteCreate = {
  program_year: 2025,
  effective_date: "2025-01-01",
  // @ts-expect-error QuoteCreate is closed (additionalProperties: false)
  discount: "10",
};

export function moneyIsAString(quote: QuoteRead): void {
  // @ts-expect-error money is a decimal string, never a number
  const total: number = quote.total;
  const first = quote.instalments[0];
  // @ts-expect-error an instalment's amount is a decimal string too
  const amount: number | undefined = first?.amount;
  console.log(total, amount);
}

export function problemIsClosed(problem: Problem): void {
  // @ts-expect-error Problem has no `message`; the sentence is `detail`
  console.log(problem.message);
  // @ts-expect-error `errors` may be absent (only invalid input has it)
  console.log(problem.errors[0]);
  // @ts-expect-error a field error has field, code and message, nothing else
  console.log(problem.errors?.[0]?.reason);
}

export async function pathsAreChecked(): Promise<void> {
  // @ts-expect-error there is no GET /quote (the collection is /quotes)
  await api.GET("/quote", {});
  // @ts-expect-error GET /quotes/{quote_id} needs its path parameter
  await api.GET("/quotes/{quote_id}", {});
  // @ts-expect-error DELETE /quotes/{quote_id} is not an operation
  await api.DELETE("/quotes/{quote_id}", { params: { path: { quote_id: "x" } } });
}
