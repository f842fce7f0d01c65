/**
 * The dashboard's assets (the page itself is `GET /` in health.ts). Public: the files hold no
 * data; the page asks for an API key and sends it with every API call.
 */
import { Type } from "@sinclair/typebox";
import { NotFoundError } from "../../core/errors.js";
import { defineRoutes } from "../route-table.js";
import { dashboardAsset } from "../dashboard.js";

export const dashboardRoutes = defineRoutes([
  {
    method: "GET",
    path: "/assets/{file}",
    operationId: "dashboardAsset",
    summary: "A file of the dashboard (JavaScript, CSS), named by its content hash and cached for a year.",
    tag: "operations",
    access: "public",
    responses: { 200: { description: "The file, with its content type.", contentType: "application/octet-stream", schema: Type.String() } },
    async handle({ params }) {
      const res = await dashboardAsset(params.file!);
      if (!res) throw new NotFoundError("dashboard asset", params.file!);
      return res;
    },
  },
]);
