-- The provisioning logs' identity filter finds an entry whose display name or UPN/mail before the @
-- contains the search, or whose whole UPN, mail or object id is the search, whatever the case and
-- accents ("zoe angstrom" finds "Zoë Ångström"); both in PostgreSQL over GIN indexes. A trigram
-- "contains" over whole addresses was measured and refused: every address shares the tenant's domain,
-- whose trigrams are in every row, and a full UPN then cost 100–250 ms at 200,000 rows.
-- pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Lower-cased, accents removed (NFD, then combining marks dropped), plus the Latin letters that do not
-- decompose. normalize() needs a UTF8 database; in any other encoding the fold is lower() alone rather
-- than a log write that fails. Immutable, so generated columns and the filter can use it.
DO $fold$
BEGIN
  IF current_setting('server_encoding') = 'UTF8' THEN
    CREATE FUNCTION provisioning_identity_fold(value text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN replace(replace(replace(
        translate(lower(regexp_replace(normalize(value, NFD), '[\u0300-\u036f]', '', 'g')), 'øłđħı', 'oldhi'),
        'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe');
  ELSE
    CREATE FUNCTION provisioning_identity_fold(value text) RETURNS text
      LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
      RETURN lower(value);
  END IF;
END
$fold$;

-- What the EntryImport step read from Microsoft Entra ID (its details are the source object); an entry
-- for a deleted object has only the id there.
CREATE FUNCTION provisioning_imported_attribute(steps jsonb, attribute text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN provisioning_identity_fold(
    jsonb_path_query_first(steps, '$[*] ? (@.name == "EntryImport").details') ->> attribute);

-- "Contains" text: both display names and the part of the UPN and mail before the @ ("zoe.garcia"),
-- separated by line feeds so a search does not match across two of them.
CREATE FUNCTION provisioning_identity_names(steps jsonb, source_name text, target_name text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN provisioning_identity_fold(
    coalesce(source_name, '') || E'\n' || coalesce(target_name, '') || E'\n' ||
    coalesce(split_part(provisioning_imported_attribute(steps, 'userPrincipalName'), '@', 1), '') || E'\n' ||
    coalesce(split_part(provisioning_imported_attribute(steps, 'mail'), '@', 1), ''));

-- Exact-match keys: both object ids, the whole UPN and the whole mail, as 64-bit hashes (measured: less
-- than half the index the texts take, unique keys being most of a row's index entries). The filter does
-- not recheck the texts: at a million rows the odds that a search hits another key's hash are ~2e-13.
CREATE FUNCTION provisioning_identity_key_hash(key text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN hashtextextended(key, 0);

CREATE FUNCTION provisioning_identity_key_hashes(steps jsonb, source_id text, target_id text) RETURNS bigint[]
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN array_remove(ARRAY[
    provisioning_identity_key_hash(provisioning_identity_fold(source_id)),
    provisioning_identity_key_hash(provisioning_identity_fold(target_id)),
    provisioning_identity_key_hash(provisioning_imported_attribute(steps, 'userPrincipalName')),
    provisioning_identity_key_hash(provisioning_imported_attribute(steps, 'mail'))
  ], NULL);

-- Generated rather than written by the log writers (the cycle's INSERT … SELECT, on demand, replay), so
-- every writer, present and future, fills them.
ALTER TABLE "ProvisioningLog"
  ADD COLUMN "identityNames" TEXT GENERATED ALWAYS AS (
    provisioning_identity_names("steps", "sourceDisplayName", "targetDisplayName")
  ) STORED,
  ADD COLUMN "identityKeyHashes" BIGINT[] GENERATED ALWAYS AS (
    provisioning_identity_key_hashes("steps", "sourceId", "targetId")
  ) STORED;

-- AlterTable
ALTER TABLE "AuditEntry" ADD COLUMN     "objectDisplayName" TEXT,
ADD COLUMN     "objectId" TEXT,
ADD COLUMN     "objectType" TEXT,
ADD COLUMN     "objectUpn" TEXT;

-- CreateIndex
CREATE INDEX "ProvisioningLog_identityNames_idx" ON "ProvisioningLog" USING GIN ("identityNames" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "ProvisioningLog_identityKeyHashes_idx" ON "ProvisioningLog" USING GIN ("identityKeyHashes");
