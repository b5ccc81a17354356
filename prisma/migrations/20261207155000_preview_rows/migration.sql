-- A preview's plan moves from two JSON documents on PlanPreview into rows.
CREATE TABLE "PlanPreviewOperation" (
    "previewId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "kind" TEXT NOT NULL,
    "fingerprint" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    CONSTRAINT "PlanPreviewOperation_pkey" PRIMARY KEY ("previewId","seq")
);
CREATE INDEX "PlanPreviewOperation_previewId_kind_seq_idx" ON "PlanPreviewOperation"("previewId", "kind", "seq");
ALTER TABLE "PlanPreviewOperation" ADD CONSTRAINT "PlanPreviewOperation_previewId_fkey"
    FOREIGN KEY ("previewId") REFERENCES "PlanPreview"("id") ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE "PlanPreviewMembership" (
    "previewId" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "data" JSONB NOT NULL,
    CONSTRAINT "PlanPreviewMembership_pkey" PRIMARY KEY ("previewId","seq")
);
ALTER TABLE "PlanPreviewMembership" ADD CONSTRAINT "PlanPreviewMembership_previewId_fkey"
    FOREIGN KEY ("previewId") REFERENCES "PlanPreview"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Previews computed before this migration keep their plans.
INSERT INTO "PlanPreviewOperation" ("previewId", "seq", "kind", "fingerprint", "data")
SELECT p.id, item.n::int, item.value->>'kind', COALESCE(item.value->>'fingerprint', ''), item.value
FROM "PlanPreview" p, jsonb_array_elements(p.operations) WITH ORDINALITY AS item(value, n);
INSERT INTO "PlanPreviewMembership" ("previewId", "seq", "data")
SELECT p.id, item.n::int, item.value
FROM "PlanPreview" p, jsonb_array_elements(p.memberships) WITH ORDINALITY AS item(value, n);

ALTER TABLE "PlanPreview" DROP COLUMN "operations", DROP COLUMN "memberships";
