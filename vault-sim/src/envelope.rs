//! Vault's JSON envelope: every processed request is answered HTTP 200 with `responseStatus`
//! first, then `errors` (FAILURE, EXCEPTION) or `warnings` (WARNING) and the endpoint's data.

use crate::http::Response;

/// HTTP 200 with responseStatus `status` ("FAILURE", "EXCEPTION") and one error.
pub fn vault_error(status: &str, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({"responseStatus": status, "errors": [{"type": kind, "message": message}]});
    Response::json(body.to_string())
}

/// responseStatus FAILURE with one error of type `kind`.
pub fn failure(kind: &str, message: &str) -> Response {
    vault_error("FAILURE", kind, message)
}

/// The same SUCCESS answer as WARNING with a warnings array right after responseStatus, where
/// Vault puts it. Any other answer is left as it is.
pub fn warned(mut response: Response) -> Response {
    const SUCCESS: &[u8] = br#"{"responseStatus":"SUCCESS""#;
    const WARNING: &[u8] =
        br#"{"responseStatus":"WARNING","warnings":[{"message":"Simulated warning.","type":"SIMULATED_WARNING"}]"#;
    if response.body.starts_with(SUCCESS) {
        response.body.splice(..SUCCESS.len(), WARNING.iter().copied());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_goes_right_after_the_status() {
        let r = warned(Response::json(r#"{"responseStatus":"SUCCESS","data":[]}"#));
        let json: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(json["responseStatus"], "WARNING");
        assert_eq!(json["warnings"][0]["type"], "SIMULATED_WARNING");
        assert_eq!(json["data"], serde_json::json!([]));
        let failed = failure("INVALID_DATA", "x");
        assert_eq!(warned(failure("INVALID_DATA", "x")).body, failed.body, "only a SUCCESS is warned");
    }
}
