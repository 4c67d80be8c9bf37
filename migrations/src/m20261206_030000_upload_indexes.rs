//! Indexes for the upload quota and the orphan cleanup: a member's uploads
//! by time (how many and how much in the last day), and every upload by
//! time (those past `UPLOAD_ORPHAN_HOURS`). Whether an upload is attached
//! goes through `upload_attachments_unique`, which starts with `upload_id`.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Uploads {
    Table,
    UploaderId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        crate::create_index(
            m,
            Uploads::Table,
            "uploads_uploader_created",
            &[Uploads::UploaderId, Uploads::CreatedAt],
            false,
        )
        .await?;
        crate::create_index(
            m,
            Uploads::Table,
            "uploads_created_at",
            &[Uploads::CreatedAt],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS uploads_created_at")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS uploads_uploader_created")
            .await?;
        Ok(())
    }
}
