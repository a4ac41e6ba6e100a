-- +goose Up
-- The deployment identity: one row, made by the first migration run. It travels in every
-- checkout workflow's input, is claimed in the Temporal namespace by serve and worker, and
-- activities refuse work that carries another deployment's identity (DESIGN.md §4).
CREATE TABLE deployment (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    id         uuid        NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO deployment DEFAULT VALUES;

-- Why a checkout needs attention (an excessive payment, a seat already owned, a failed
-- fulfillment), kept with its status so ops can read it without the workflow.
ALTER TABLE checkouts ADD COLUMN attention_reason text NOT NULL DEFAULT '';

-- Whether the checkout's workflow is known to have started. A checkout frozen while Temporal was
-- down stays false until the orphan sweeper starts its workflow or unfreezes the basket.
ALTER TABLE checkouts ADD COLUMN workflow_started boolean NOT NULL DEFAULT true;
ALTER TABLE checkouts ALTER COLUMN workflow_started SET DEFAULT false;
CREATE INDEX checkouts_orphans_idx ON checkouts (created_at) WHERE NOT workflow_started;

-- +goose Down
DROP INDEX checkouts_orphans_idx;
ALTER TABLE checkouts DROP COLUMN workflow_started, DROP COLUMN attention_reason;
DROP TABLE deployment;
