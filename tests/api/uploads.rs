//! Photo uploads: typed from their bytes, bounded, stripped of location,
//! stored once per content, and readable only where their submission is.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use reqwest::multipart::{Form, Part};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;
use xianfeng::entities::{upload, upload_attachment, user, visit};

use crate::helpers::*;

const MIB: usize = 1024 * 1024;

/// Latitude 39°54'27.12" as three little-endian RATIONALs: bytes to look for.
fn latitude() -> Vec<u8> {
    [(39u32, 1u32), (54, 1), (2712, 100)]
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect()
}

fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    s.extend(payload);
    s
}

fn ifd_entry(tag: u16, kind: u16, count: u32, value: [u8; 4]) -> Vec<u8> {
    [
        &tag.to_le_bytes()[..],
        &kind.to_le_bytes(),
        &count.to_le_bytes(),
        &value,
    ]
    .concat()
}

/// A JPEG as a phone takes it: Exif with orientation and a GPS directory
/// holding a latitude, then (a token) image data. `salt` varies the bytes.
fn jpeg_with_gps(salt: u8) -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(ifd_entry(0x0112, 3, 1, [6, 0, 0, 0]));
    tiff.extend(ifd_entry(0x8825, 4, 1, 38u32.to_le_bytes()));
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(2u16.to_le_bytes());
    tiff.extend(ifd_entry(0x0001, 2, 2, *b"N\0\0\0"));
    tiff.extend(ifd_entry(0x0002, 5, 3, 68u32.to_le_bytes()));
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(latitude());
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(segment(0xE1, &[b"Exif\0\0".as_slice(), &tiff].concat()));
    jpeg.extend(frame(1, 1));
    jpeg.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    jpeg.extend([0x12, 0x34, salt, 0x56, 0xFF, 0xD9]);
    jpeg
}

/// A JPEG frame header (SOF0) for `width` × `height`, one component.
fn frame(width: u16, height: u16) -> Vec<u8> {
    let mut sof = vec![8];
    sof.extend(height.to_be_bytes());
    sof.extend(width.to_be_bytes());
    sof.extend([1, 1, 0x11, 0]);
    segment(0xC0, &sof)
}

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    [
        &u32::try_from(data.len()).unwrap().to_be_bytes()[..],
        kind,
        data,
        &crc.finalize().to_be_bytes(),
    ]
    .concat()
}

/// A PNG of exactly `size` bytes (at least 57); `salt` varies the bytes.
fn png_of_size(size: usize, salt: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    png.extend(png_chunk(b"IDAT", &vec![salt; size - 57]));
    png.extend(png_chunk(b"IEND", &[]));
    png
}

fn png(salt: u8) -> Vec<u8> {
    png_of_size(64, salt)
}

fn webp(salt: u8) -> Vec<u8> {
    let mut webp = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0".to_vec();
    webp.extend([
        0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, salt,
    ]);
    webp
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn form(bytes: Vec<u8>, file_name: &str, claimed_type: &str) -> Form {
    Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str(claimed_type)
            .unwrap(),
    )
}

async fn upload_as(app: &TestApp, who: &user::Model, form: Form) -> reqwest::Response {
    app.request(reqwest::Method::POST, "/api/v1/uploads", Some(who))
        .multipart(form)
        .send()
        .await
        .expect("POST /uploads")
}

/// Uploads `bytes` as `who` and answers the body; it must be stored.
async fn uploaded(app: &TestApp, who: &user::Model, bytes: Vec<u8>) -> Value {
    let response = upload_as(app, who, form(bytes, "photo.jpg", "image/jpeg")).await;
    assert!(response.status().is_success(), "{}", response.status());
    json_of(response).await
}

/// A visit by the branch's first member, in `status`, with `upload_id` attached.
async fn attach_to_visit(app: &TestApp, upload_id: &str, status: &str) -> visit::Model {
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let now = chrono::Utc::now();
    let upload_id: Uuid = upload_id.parse().unwrap();
    let visit = visit::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(member.township_id),
        branch_id: Set(branch.branch.id),
        household_id: Set(branch.households[0].id),
        member_id: Set(member.id),
        kind: Set("assistance".into()),
        visited_at: Set(now),
        received_at: Set(now),
        submitted_at: Set(now),
        lat: Set(30.27),
        lng: Set(120.15),
        accuracy_m: Set(Some(10.0)),
        coord_system: Set("gcj02".into()),
        distance_m: Set(None),
        summary: Set("了解家中老人身体情况".into()),
        needs: Set(json!([])),
        follow_up: Set(false),
        photo_ids: Set(json!([upload_id])),
        flags: Set(json!([])),
        status: Set(status.into()),
        version: Set(1),
        reviewer_id: Set(None),
        review_decision: Set(None),
        review_comment: Set(None),
        reviewed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    upload_attachment::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(member.township_id),
        upload_id: Set(upload_id),
        subject_kind: Set("visit".into()),
        subject_id: Set(visit.id),
        created_at: Set(now),
    }
    .insert(&app.db)
    .await
    .unwrap();
    visit
}

#[tokio::test]
async fn images_are_typed_from_their_bytes_not_the_clients_claim() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let cases = [
        (jpeg_with_gps(1), "image/png", "image/jpeg"),
        (png(1), "image/jpeg", "image/png"),
        (webp(1), "application/octet-stream", "image/webp"),
    ];

    for (bytes, claimed, expected) in cases {
        let response = upload_as(&app, member, form(bytes, "photo.jpg", claimed)).await;

        assert_eq!(response.status(), StatusCode::CREATED, "{expected}");
        let body = json_of(response).await;
        assert_eq!(body["content_type"], expected);
        assert!(body["id"].as_str().unwrap().parse::<Uuid>().is_ok());
    }
}

#[tokio::test]
async fn a_text_file_named_jpg_is_unsupported() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let text = "这不是照片，只是一段文字。".repeat(10).into_bytes();

    let response = upload_as(&app, member, form(text, "photo.jpg", "image/jpeg")).await;

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_jpeg_header_on_a_broken_file_is_unsupported() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let broken = [&[0xFF, 0xD8, 0xFF, 0xE1, 0x40, 0x00][..], b"Exif\0\0II"].concat();

    let response = upload_as(&app, member, form(broken, "photo.jpg", "image/jpeg")).await;

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_file_one_byte_over_10_mib_is_too_large() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let bytes = png_of_size(10 * MIB + 1, 0);

    let response = upload_as(&app, member, form(bytes, "big.png", "image/png")).await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_file_of_exactly_10_mib_is_accepted() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let bytes = png_of_size(10 * MIB, 7);

    let response = upload_as(&app, member, form(bytes.clone(), "big.png", "image/png")).await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_of(response).await;
    assert_eq!(body["size"], 10 * MIB);
    assert_eq!(body["sha256"], sha256_hex(&bytes));
}

#[tokio::test]
async fn an_oversized_content_length_is_refused_before_the_body_is_sent() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let address = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /api/v1/uploads HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n",
        app.token_for(member),
        50 * MIB
    );

    // Only the head is sent: the answer cannot wait for the body.
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("answered without the body")
        .unwrap();

    let status_line = String::from_utf8_lossy(&answer[..n]);
    assert!(
        status_line.starts_with("HTTP/1.1 413"),
        "answered {status_line}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_multipart_is_unsupported() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let response = app
        .request(reqwest::Method::POST, "/api/v1/uploads", Some(member))
        .header(CONTENT_TYPE, "image/png")
        .body(png(0))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");
}

#[tokio::test]
async fn a_form_without_a_file_field_names_file() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let form = Form::new().part("photo", Part::bytes(png(0)).file_name("a.png"));

    let response = upload_as(&app, member, form).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(response).await;
    assert_eq!(body["error"]["details"][0]["field"], "file");
}

#[tokio::test]
async fn anonymous_uploads_are_unauthenticated() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/v1/uploads"))
        .multipart(form(png(0), "a.png", "image/png"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_same_bytes_twice_from_one_member_answer_the_first_upload() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let first = upload_as(&app, member, form(png(3), "a.png", "image/png")).await;
    let retry = upload_as(&app, member, form(png(3), "again.png", "image/png")).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(retry.status(), StatusCode::OK);
    let (first, retry) = (json_of(first).await, json_of(retry).await);
    assert_eq!(first["id"], retry["id"]);
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn concurrent_retries_of_one_upload_make_one_row() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let answers = futures_util::future::join_all(
        (0..8).map(|_| upload_as(&app, member, form(webp(9), "a.webp", "image/webp"))),
    )
    .await;

    let mut ids = Vec::new();
    let mut created = 0;
    for response in answers {
        assert!(response.status().is_success(), "{}", response.status());
        created += usize::from(response.status() == StatusCode::CREATED);
        ids.push(json_of(response).await["id"].clone());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert_eq!(created, 1, "one answer creates, the others find it");
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn the_same_bytes_from_two_members_are_two_uploads_of_one_object() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let first = uploaded(&app, &branch.members[0], png(4)).await;
    let second = uploaded(&app, &branch.members[1], png(4)).await;

    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    let rows = upload::Entity::find().all(&app.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].storage_key, rows[1].storage_key);
}

#[tokio::test]
async fn a_stored_jpeg_carries_no_location() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let original = jpeg_with_gps(5);
    assert!(contains(&original, &latitude()));

    let body = uploaded(&app, member, original.clone()).await;
    let response = app
        .get(
            &format!("/api/v1/uploads/{}", body["id"].as_str().unwrap()),
            member,
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/jpeg");
    let stored = response.bytes().await.unwrap();
    assert!(!contains(&stored, &latitude()), "latitude survived");
    assert!(
        !contains(&stored, b"N\0\0\0"),
        "latitude reference survived"
    );
    assert_eq!(&stored[..2], [0xFF, 0xD8]);
    assert_eq!(&stored[stored.len() - 2..], [0xFF, 0xD9]);
    assert!(stored.len() < original.len());
    assert_eq!(body["size"], stored.len());
    assert_eq!(
        body["sha256"],
        sha256_hex(&stored),
        "digest of what is stored"
    );
    assert_ne!(body["sha256"], sha256_hex(&original));
}

#[tokio::test]
async fn the_uploader_reads_it_back_with_cache_headers() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let bytes = png(6);
    let body = uploaded(&app, member, bytes.clone()).await;
    let path = format!("/api/v1/uploads/{}", body["id"].as_str().unwrap());

    let response = app.get(&path, member).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "image/png");
    assert_eq!(response.headers()[CACHE_CONTROL], "private, max-age=86400");
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", sha256_hex(&bytes)));
    assert_eq!(response.bytes().await.unwrap(), bytes);

    let again = app
        .request(reqwest::Method::GET, &path, Some(member))
        .header(IF_NONE_MATCH, etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn an_unattached_upload_is_hidden_from_everyone_but_its_uploader() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let body = uploaded(&app, &branch.members[0], png(7)).await;
    let path = format!("/api/v1/uploads/{}", body["id"].as_str().unwrap());

    let colleague = app.get(&path, &branch.members[1]).await;
    let secretary = app.get(&path, &branch.secretary).await;
    let other_township = app.get(&path, &app.world.b.admin).await;
    let anonymous = app.client.get(app.url(&path)).send().await.unwrap();

    assert_eq!(colleague.status(), StatusCode::NOT_FOUND);
    assert_eq!(secretary.status(), StatusCode::NOT_FOUND);
    assert_eq!(other_township.status(), StatusCode::NOT_FOUND);
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_upload_is_not_found() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let response = app
        .get(&format!("/api/v1/uploads/{}", Uuid::now_v7()), member)
        .await;

    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_photo_of_an_approved_visit_is_readable_across_its_branch() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let bytes = png(8);
    let body = uploaded(&app, &branch.members[0], bytes.clone()).await;
    attach_to_visit(&app, body["id"].as_str().unwrap(), "approved").await;
    let path = format!("/api/v1/uploads/{}", body["id"].as_str().unwrap());

    let colleague = app.get(&path, &branch.members[1]).await;
    let other_branch = app.get(&path, &app.world.a.branches[1].members[0]).await;
    let other_township = app.get(&path, &app.world.b.admin).await;

    assert_eq!(colleague.status(), StatusCode::OK);
    assert_eq!(colleague.bytes().await.unwrap(), bytes);
    assert_eq!(other_branch.status(), StatusCode::NOT_FOUND);
    assert_eq!(other_township.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_photo_of_a_pending_visit_is_for_its_reviewers_not_colleagues() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let body = uploaded(&app, &branch.members[0], png(9)).await;
    attach_to_visit(&app, body["id"].as_str().unwrap(), "pending").await;
    let path = format!("/api/v1/uploads/{}", body["id"].as_str().unwrap());

    let colleague = app.get(&path, &branch.members[1]).await;
    let secretary = app.get(&path, &branch.secretary).await;
    let admin = app.get(&path, &app.world.a.admin).await;

    assert_eq!(colleague.status(), StatusCode::NOT_FOUND);
    assert_eq!(secretary.status(), StatusCode::OK);
    assert_eq!(admin.status(), StatusCode::OK);
}

/// A JPEG as a camera writes it: Exif naming the camera and the time, an
/// XMP packet, a comment, and bytes after its end.
fn jpeg_from_a_camera() -> Vec<u8> {
    let mut tiff = b"II*\0".to_vec();
    tiff.extend(8u32.to_le_bytes());
    // IFD0 at 8: three entries → ends at 50; the strings follow.
    tiff.extend(3u16.to_le_bytes());
    tiff.extend(ifd_entry(0x010F, 2, 6, 50u32.to_le_bytes()));
    tiff.extend(ifd_entry(0x0110, 2, 10, 56u32.to_le_bytes()));
    tiff.extend(ifd_entry(0x0132, 2, 20, 66u32.to_le_bytes()));
    tiff.extend(0u32.to_le_bytes());
    tiff.extend(b"Canon\0");
    tiff.extend(b"EOS R6 II\0");
    tiff.extend(b"2026:12:05 09:41:07\0");
    let mut jpeg = vec![0xFF, 0xD8];
    jpeg.extend(segment(0xE1, &[b"Exif\0\0".as_slice(), &tiff].concat()));
    jpeg.extend(segment(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>Wang household</x:xmpmeta>",
    ));
    jpeg.extend(segment(0xFE, b"group 3, house 12"));
    jpeg.extend(frame(4, 3));
    jpeg.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    jpeg.extend([0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]);
    jpeg.extend(b"appended after the end of the image");
    jpeg
}

/// What `GET /uploads/{id}` serves for an upload of `bytes` by `who`.
async fn stored(app: &TestApp, who: &user::Model, bytes: Vec<u8>) -> Vec<u8> {
    let body = uploaded(app, who, bytes).await;
    let response = app
        .get(
            &format!("/api/v1/uploads/{}", body["id"].as_str().unwrap()),
            who,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let stored = response.bytes().await.unwrap().to_vec();
    assert_eq!(body["sha256"], sha256_hex(&stored));
    stored
}

#[tokio::test]
async fn a_stored_jpeg_keeps_no_camera_time_text_or_trailing_bytes() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let kept = stored(&app, member, jpeg_from_a_camera()).await;

    for gone in [
        &b"Canon"[..],
        b"EOS R6",
        b"2026:12:05",
        b"Wang household",
        b"group 3",
        b"appended",
    ] {
        assert!(!contains(&kept, gone), "{}", String::from_utf8_lossy(gone));
    }
    assert!(kept.ends_with(&[0x12, 0x34, 0xFF, 0x00, 0x56, 0xFF, 0xD9]));
}

#[tokio::test]
async fn a_stored_png_keeps_no_text_chunks_or_trailing_bytes() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let mut original = b"\x89PNG\r\n\x1a\n".to_vec();
    original.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    original.extend(png_chunk(b"tEXt", b"Author\0Wang household"));
    original.extend(png_chunk(b"zTXt", b"Comment\0\0x"));
    let image = png_chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00]);
    original.extend(&image);
    original.extend(png_chunk(b"IEND", &[]));
    original.extend(b"appended after IEND");

    let kept = stored(&app, member, original).await;

    assert!(!contains(&kept, b"Wang household"));
    assert!(!contains(&kept, b"Comment"));
    assert!(!contains(&kept, b"appended"));
    assert!(contains(&kept, &image));
    assert!(kept.ends_with(&png_chunk(b"IEND", &[])));
}

#[tokio::test]
async fn an_image_of_30000_by_30000_pixels_is_refused_naming_file() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = 30_000u32.to_be_bytes().to_vec();
    header.extend(30_000u32.to_be_bytes());
    header.extend([8, 6, 0, 0, 0]);
    bomb.extend(png_chunk(b"IHDR", &header));
    bomb.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00]));
    bomb.extend(png_chunk(b"IEND", &[]));
    let mut jpeg_bomb = vec![0xFF, 0xD8];
    jpeg_bomb.extend(frame(30_000, 30_000));
    jpeg_bomb.extend(segment(0xDA, &[1, 1, 0, 0, 63, 0]));
    jpeg_bomb.extend([0x12, 0xFF, 0xD9]);

    for (bytes, name) in [(bomb, "bomb.png"), (jpeg_bomb, "bomb.jpg")] {
        let response = upload_as(&app, member, form(bytes, name, "image/png")).await;

        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}"
        );
        let body = json_of(response).await;
        assert_eq!(body["error"]["details"][0]["field"], "file", "{name}");
        assert_eq!(body["error"]["details"][0]["code"], "too_many_pixels");
    }
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 0);
}

async fn spawn_with(env: &[(&'static str, &str)]) -> TestApp {
    spawn_app_with(Options {
        env: env.iter().map(|(k, v)| (*k, (*v).to_owned())).collect(),
    })
    .await
}

#[tokio::test]
async fn a_member_past_the_daily_file_quota_is_told_when_to_retry() {
    let app = spawn_with(&[("UPLOAD_DAILY_MAX_FILES", "3")]).await;
    let branch = &app.world.a.branches[0];
    for salt in 0..3 {
        uploaded(&app, &branch.members[0], png(salt)).await;
    }

    let fourth = upload_as(&app, &branch.members[0], form(png(3), "p.png", "image/png")).await;
    let colleague = upload_as(&app, &branch.members[1], form(png(3), "p.png", "image/png")).await;

    assert_eq!(fourth.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = fourth.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 23 * 3600 && wait <= 24 * 3600, "{wait}");
    let body = json_of(fourth).await;
    assert_eq!(body["error"]["code"], "upload_quota_exceeded");
    assert_eq!(body["error"]["details"][0]["field"], "file");
    assert_eq!(body["error"]["details"][0]["code"], "daily_files");
    assert_eq!(
        colleague.status(),
        StatusCode::CREATED,
        "the quota is per member"
    );
}

#[tokio::test]
async fn a_member_past_the_daily_mib_quota_is_refused() {
    let app = spawn_with(&[("UPLOAD_DAILY_MAX_MIB", "1")]).await;
    let member = &app.world.a.branches[0].members[0];
    uploaded(&app, member, png_of_size(600 * 1024, 1)).await;

    let second = upload_as(
        &app,
        member,
        form(png_of_size(600 * 1024, 2), "p.png", "image/png"),
    )
    .await;

    assert_eq!(second.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = json_of(second).await;
    assert_eq!(body["error"]["code"], "upload_quota_exceeded");
    assert_eq!(body["error"]["details"][0]["code"], "daily_mib");
    assert_eq!(upload::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn uploads_attached_to_nothing_are_removed_with_their_files_after_the_orphan_age() {
    let app = spawn_app().await;
    let data_dir = app.data_dir.clone();
    let data = data_dir.display().to_string();
    let branch = &app.world.a.branches[0];
    let orphan = uploaded(&app, &branch.members[0], png(1)).await;
    let attached = uploaded(&app, &branch.members[0], png(2)).await;
    let shared = uploaded(&app, &branch.members[0], png(3)).await;
    // The same bytes from a colleague, recent: that file must stay.
    uploaded(&app, &branch.members[1], png(3)).await;
    attach_to_visit(&app, attached["id"].as_str().unwrap(), "approved").await;
    upload::Entity::update_many()
        .col_expr(
            upload::Column::CreatedAt,
            Expr::value(chrono::Utc::now() - chrono::Duration::hours(49)),
        )
        .filter(upload::Column::UploaderId.eq(branch.members[0].id))
        .exec(&app.db)
        .await
        .unwrap();
    let file_of = |body: &Value| {
        let sha = body["sha256"].as_str().unwrap();
        data_dir.join("uploads").join(&sha[..2]).join(sha)
    };
    assert!(file_of(&orphan).exists());
    let settings = xianfeng::platform::config::Settings::from_lookup(|name| {
        (name == "DATA_DIR").then(|| data.clone())
    })
    .unwrap();
    let storage = xianfeng::platform::storage::Storage::of(&settings).unwrap();

    let purged = xianfeng::core::retention::purge_all(
        &app.db,
        &storage,
        xianfeng::core::retention::Retention::of(&settings),
    )
    .await
    .unwrap();

    assert_eq!(purged.orphan_uploads, 2);
    let left: Vec<Uuid> = upload::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(left.len(), 2);
    assert!(left.contains(&attached["id"].as_str().unwrap().parse().unwrap()));
    assert!(!file_of(&orphan).exists(), "the orphan's file is gone");
    assert!(file_of(&attached).exists());
    assert!(
        file_of(&shared).exists(),
        "a file another upload names stays"
    );
    let gone = app
        .get(
            &format!("/api/v1/uploads/{}", orphan["id"].as_str().unwrap()),
            &branch.members[0],
        )
        .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}
