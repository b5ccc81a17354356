-- AlterTable
ALTER TABLE "Connection" ADD COLUMN     "webhookEvents" TEXT[] DEFAULT ARRAY['cycle.finished', 'quarantine.entered', 'quarantine.left', 'deletions.held']::TEXT[],
ADD COLUMN     "webhookSecretCipher" TEXT,
ADD COLUMN     "webhookSecretLast4" TEXT,
ADD COLUMN     "webhookSecretUpdatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "webhookUrl" TEXT;

