-- CreateTable
CREATE TABLE "RefusedAttribute" (
    "connectionId" UUID NOT NULL,
    "objectType" TEXT NOT NULL,
    "attributeKey" TEXT NOT NULL,
    "attribute" TEXT NOT NULL,
    "scimType" TEXT,
    "detail" TEXT NOT NULL,
    "request" TEXT NOT NULL,
    "mappingSignature" TEXT NOT NULL,
    "firstRefusedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastRefusedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RefusedAttribute_pkey" PRIMARY KEY ("connectionId","objectType","attributeKey")
);

-- CreateTable
CREATE TABLE "RefusedAttributeObject" (
    "connectionId" UUID NOT NULL,
    "objectType" TEXT NOT NULL,
    "attributeKey" TEXT NOT NULL,
    "sourceId" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RefusedAttributeObject_pkey" PRIMARY KEY ("connectionId","objectType","attributeKey","sourceId")
);

-- AddForeignKey
ALTER TABLE "RefusedAttribute" ADD CONSTRAINT "RefusedAttribute_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "Connection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RefusedAttributeObject" ADD CONSTRAINT "RefusedAttributeObject_connectionId_objectType_attributeKe_fkey" FOREIGN KEY ("connectionId", "objectType", "attributeKey") REFERENCES "RefusedAttribute"("connectionId", "objectType", "attributeKey") ON DELETE CASCADE ON UPDATE CASCADE;

