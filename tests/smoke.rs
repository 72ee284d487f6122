use userexport::*;
#[test]
fn smoke() {
    let u1 = r#"{"blocked":false,"created_at":"2023-01-25T17:48:14.784Z","email":"chuck436@example.com","email_verified":true,"family_name":"Sanchez","given_name":"Chuck","identities":[{"connection":"Username-Password-Authentication","user_id":"63d16b5edf1ce171262c71b5","provider":"auth0","isSocial":false}],"name":"chuck436@example.com","nickname":"Chucky","picture":"https://example-picture-url.jpg","updated_at":"2023-01-25T17:48:14.784Z","user_id":"auth0|63d16b5edf1ce171262c71b5","user_metadata":{"favourite_attack":"roundhouse_kick"},"username":"test-user215","app_metadata":{"facts":["count_to_infinity_twice","kill_two_stones_with_one_bird","can_hear_sign_language"]}}"#;
    let req = Request::from_json(r#"{"format":"csv","limit":5,"fields":[{"name":"email"},{"name":"identities[0].connection","export_as":"provider"}]}"#).unwrap();
    let mut ex = Exporter::new(req, Options::default());
    ex.push_ndjson(u1.as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    println!("{}", String::from_utf8_lossy(&out));
    let req = Request::from_json(r#"{"fields":[{"name":"user_id"},{"name":"app_metadata"},{"name":"user_metadata.favourite_attack"}]}"#).unwrap();
    let mut ex = Exporter::new(req, Options::default());
    ex.push_json(format!("[{u1},{u1}]").as_bytes()).unwrap();
    ex.finish().unwrap();
    let out = ex.pull_to_end().unwrap();
    println!("{}", String::from_utf8_lossy(&out));
}
