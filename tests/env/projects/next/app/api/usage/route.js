// A route handler.
import * as w from 'weave-usage';
import { probe } from '../../../probe.mjs';

export async function GET() {
  return Response.json(probe(w));
}
