//! Cursor pagination (SPEC §4): `?limit=` (default 20, clamped to 100) and an
//! opaque `?cursor=`; answers `{"items": [...], "next_cursor": ... | null}`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::FieldErrors;
use crate::platform::error::ApiError;

pub const DEFAULT_LIMIT: u64 = 20;
pub const MAX_LIMIT: u64 = 100;

/// The paging part of a list's query string.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page: default 20, at most 100 (larger values are clamped).
    #[param(value_type = Option<u64>, minimum = 1)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A parsed page request: items after `after`, ordered by id (ids are UUIDv7,
/// so this is creation order).
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub after: Option<Uuid>,
}

impl PageParams {
    pub fn parse(&self) -> Result<Page, ApiError> {
        let limit = self.limit()?;
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => {
                Some(decode_cursor(cursor).ok_or_else(|| ApiError::BadRequest("cursor".into()))?)
            }
        };
        Ok(Page { limit, after })
    }

    /// The page size alone, for lists whose cursor is not an id.
    pub fn limit(&self) -> Result<u64, ApiError> {
        match self.limit.as_deref().map(str::trim) {
            None | Some("") => Ok(DEFAULT_LIMIT),
            Some(raw) => match raw.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(n.min(MAX_LIMIT)),
                _ => Err(FieldErrors::single(
                    "limit",
                    "invalid",
                    "limit 应为正整数",
                    "limit must be a positive whole number",
                )
                .into()),
            },
        }
    }
}

impl Page {
    /// Restricts `query` to this page (fetching one extra row to know if more follow).
    pub fn apply<E: EntityTrait>(&self, query: Select<E>, id: E::Column) -> Select<E> {
        let query = match self.after {
            Some(after) => query.filter(id.gt(after)),
            None => query,
        };
        query.order_by_asc(id).limit(self.limit + 1)
    }

    /// Like [`Page::apply`], newest first.
    pub fn apply_newest_first<E: EntityTrait>(&self, query: Select<E>, id: E::Column) -> Select<E> {
        let query = match self.after {
            Some(after) => query.filter(id.lt(after)),
            None => query,
        };
        query.order_by_desc(id).limit(self.limit + 1)
    }

    /// Cuts the extra row and makes the next cursor from the last item kept.
    pub fn finish<T>(
        &self,
        mut rows: Vec<T>,
        id_of: impl Fn(&T) -> Uuid,
    ) -> (Vec<T>, Option<String>) {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = if more {
            rows.last().map(|r| encode_cursor(id_of(r)))
        } else {
            None
        };
        (rows, next)
    }
}

/// A page of a short list ordered by something other than its ids (e.g.
/// open escalations first): the cursor carries how many items came before.
#[derive(Debug, Clone, Copy)]
pub struct OffsetPage {
    pub limit: u64,
    pub offset: u64,
}

impl PageParams {
    pub fn parse_offset(&self) -> Result<OffsetPage, ApiError> {
        let limit = self.limit()?;
        let offset = match self.cursor.as_deref() {
            None | Some("") => 0,
            Some(cursor) => {
                decode_offset(cursor).ok_or_else(|| ApiError::BadRequest("cursor".into()))?
            }
        };
        Ok(OffsetPage { limit, offset })
    }
}

impl OffsetPage {
    /// Restricts an ordered `query` to this page, plus one row to know if more follow.
    pub fn apply<E: EntityTrait>(&self, query: Select<E>) -> Select<E> {
        query.offset(self.offset).limit(self.limit + 1)
    }

    /// Cuts the extra row and makes the next cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> (Vec<T>, Option<String>) {
        let more = rows.len() as u64 > self.limit;
        rows.truncate(self.limit as usize);
        let next = more.then(|| encode_offset(self.offset + self.limit));
        (rows, next)
    }
}

fn encode_offset(offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("offset:{offset}"))
}

fn decode_offset(cursor: &str) -> Option<u64> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    text.strip_prefix("offset:")?.parse().ok()
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct List<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

fn encode_cursor(id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(id.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<Uuid> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<&str>, cursor: Option<&str>) -> PageParams {
        PageParams {
            limit: limit.map(Into::into),
            cursor: cursor.map(Into::into),
        }
    }

    #[test]
    fn limit_defaults_to_20_and_clamps_to_100() {
        assert_eq!(params(None, None).parse().unwrap().limit, 20);
        assert_eq!(params(Some("500"), None).parse().unwrap().limit, 100);
        assert!(matches!(
            params(Some("0"), None).parse(),
            Err(ApiError::Validation(_))
        ));
        assert!(matches!(
            params(Some("ten"), None).parse(),
            Err(ApiError::Validation(_))
        ));
    }

    #[test]
    fn malformed_cursor_is_bad_request_and_good_one_round_trips() {
        assert!(matches!(
            params(None, Some("not a cursor!")).parse(),
            Err(ApiError::BadRequest(_))
        ));
        let id = Uuid::now_v7();
        assert_eq!(
            params(None, Some(&encode_cursor(id)))
                .parse()
                .unwrap()
                .after,
            Some(id)
        );
    }

    #[test]
    fn offset_cursor_pages_through_and_rejects_garbage() {
        let page = params(Some("2"), None).parse_offset().unwrap();
        let (rows, next) = page.finish(vec![1, 2, 3]);
        assert_eq!(rows, [1, 2]);
        let next_page = params(Some("2"), next.as_deref()).parse_offset().unwrap();
        assert_eq!(next_page.offset, 2);
        assert_eq!(next_page.finish(vec![3]).1, None);
        assert!(matches!(
            params(None, Some("garbage")).parse_offset(),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn finish_reports_next_cursor_only_when_more_follow() {
        let page = Page {
            limit: 2,
            after: None,
        };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let (items, next) = page.finish(ids.clone(), |id| *id);
        assert_eq!(items.len(), 2);
        assert_eq!(next, Some(encode_cursor(ids[1])));
        let (_, none) = page.finish(ids[..2].to_vec(), |id| *id);
        assert_eq!(none, None);
    }
}
