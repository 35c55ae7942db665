//! The JavaScript boundary: the only module that touches `JsValue`.
//!
//! Every export does four things: read its arguments into core values,
//! call the core (`api.rs`), turn the result into JavaScript, and map a core
//! error to a thrown `Error` (in [`throw`], the one place that happens).
//!
//! Reading follows `JSON.stringify`, so a call list means here exactly what
//! it would mean to the server once sent: `undefined` members are absent,
//! NaN and ±Infinity are `null`, a `Date` is its ISO string. Only the parts
//! of a call in [`CALL_SHAPE`] are visited; `inputs`, `output` and the rest
//! are never touched.
//!
//! Results are built by `JSON.parse` on text the core writes: it defines
//! each key as an own property, so ids and model names like `__proto__`
//! cannot reach a prototype, and it is the fastest way to build many small
//! objects.

use std::sync::Once;

use js_sys::{Array, ArrayBuffer, Date, Object, Reflect, Uint8Array, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::call::{Shape, ARGUMENT_SHAPE, CALL_SHAPE, COST_FIELDS};
use crate::error::{Loc, UsageError};
use crate::response::CallsUsageRes;
use crate::value::{Num, Value};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    /// The `options` argument: an imported type, so that the generated
    /// signature reads `options?: UsageOptions | null`.
    #[wasm_bindgen(typescript_type = "UsageOptions")]
    pub type OptionsArg;
}

/// `callsUsage(calls, request, options?)`: usage per model for each
/// requested root call over calls already parsed into objects.
#[wasm_bindgen(js_name = callsUsage, unchecked_return_type = "CallsUsageRes")]
pub fn calls_usage(
    #[wasm_bindgen(unchecked_param_type = "Call[]")] calls: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let calls = read(&calls, &Shape::Items(&CALL_SHAPE));
    let (request, options) = read_arguments(&request, options.as_ref());
    let result = api::calls_usage(&calls, &request, options.as_ref()).map_err(throw)?;
    Ok(to_js(&result))
}

/// `callsUsageFromJson(body, request, options?)`: the same over the text
/// `/calls/stream_query` returns (JSON Lines) or a JSON array of calls, as
/// bytes (the fast path) or a string.
#[wasm_bindgen(js_name = callsUsageFromJson, unchecked_return_type = "CallsUsageRes")]
pub fn calls_usage_from_json(
    #[wasm_bindgen(unchecked_param_type = "Uint8Array | ArrayBuffer | string")] body: JsValue,
    #[wasm_bindgen(unchecked_param_type = "CallsUsageReq")] request: JsValue,
    options: Option<OptionsArg>,
) -> Result<JsValue, JsValue> {
    install_panic_hook();
    let body = read_body(&body).map_err(throw)?;
    let (request, options) = read_arguments(&request, options.as_ref());
    let result = api::calls_usage_from_json(&body, &request, options.as_ref()).map_err(throw)?;
    Ok(to_js(&result))
}

/// A bug that panics should say so in the console, not just trap.
fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::panic::set_hook(Box::new(console_error_panic_hook::hook)));
}

fn read_arguments(request: &JsValue, options: Option<&OptionsArg>) -> (Value, Option<Value>) {
    // `None` covers both `undefined` and `null`.
    let options = options.map(|o| read(o, &ARGUMENT_SHAPE));
    (read(request, &ARGUMENT_SHAPE), options)
}

/// The body's bytes: a `Uint8Array` or `ArrayBuffer` is copied into wasm
/// memory as is; a string is encoded as UTF-8.
fn read_body(body: &JsValue) -> Result<Vec<u8>, UsageError> {
    if let Some(bytes) = body.dyn_ref::<Uint8Array>() {
        Ok(bytes.to_vec())
    } else if let Some(buffer) = body.dyn_ref::<ArrayBuffer>() {
        Ok(Uint8Array::new(buffer).to_vec())
    } else if let Some(text) = body.as_string() {
        Ok(text.into_bytes())
    } else {
        Err(UsageError::invalid(
            vec![Loc::from("body")],
            "bytes_type",
            "Input should be a Uint8Array, an ArrayBuffer or a string",
        ))
    }
}

/// A JavaScript value as `JSON.stringify` would present it to the server,
/// visiting only what `shape` keeps.
fn read(v: &JsValue, shape: &Shape) -> Value {
    if let Some(b) = v.as_bool() {
        return Value::Bool(b);
    }
    if let Some(x) = v.as_f64() {
        return if x.is_finite() { Value::Number(Num::from_js(x)) } else { Value::Null };
    }
    if let Some(s) = v.as_string() {
        return Value::String(s);
    }
    if v.is_bigint() {
        // JSON.stringify refuses BigInt; reading it as the integer it is
        // serves the caller better than failing.
        let text = String::from(js_sys::BigInt::unchecked_from_js_ref(v).to_string(10).unwrap_or_default());
        return Value::Number(text.parse::<i128>().map_or_else(|_| Num::BigInt { approx: text.parse().unwrap_or(f64::NAN) }, Num::Int));
    }
    if Array::is_array(v) {
        return match shape {
            Shape::Items(item) => {
                let array = Array::unchecked_from_js_ref(v);
                Value::Array(array.iter().map(|x| if is_absent(&x) { Value::Null } else { read(&x, item) }).collect())
            }
            _ => Value::Array(Vec::new()),
        };
    }
    if let Some(date) = v.dyn_ref::<Date>() {
        // What Date.prototype.toJSON gives: the ISO string, or null if invalid.
        return if date.get_time().is_nan() { Value::Null } else { Value::String(date.to_iso_string().into()) };
    }
    if v.is_object() && !v.is_function() {
        return match shape {
            Shape::Fields(fields) => Value::Object(
                fields
                    .iter()
                    .filter_map(|(name, sub)| {
                        let x = get(v, &JsValue::from_str(name))?;
                        Some(((*name).to_string(), read(&x, sub)))
                    })
                    .collect(),
            ),
            Shape::EachValue(sub) => Value::Object(
                Object::keys(v.unchecked_ref::<Object>())
                    .iter()
                    .filter_map(|key| {
                        let x = get(v, &key)?;
                        Some((key.as_string().unwrap_or_default(), read(&x, sub)))
                    })
                    .collect(),
            ),
            Shape::Scalar | Shape::Items(_) => Value::Object(Vec::new()),
        };
    }
    // null, undefined, functions and symbols.
    Value::Null
}

/// A member that `JSON.stringify` would write: present and not `undefined`,
/// a function or a symbol. A getter that throws counts as absent.
fn get(object: &JsValue, key: &JsValue) -> Option<JsValue> {
    Reflect::get(object, key).ok().filter(|x| !is_absent(x))
}

fn is_absent(x: &JsValue) -> bool {
    x.is_undefined() || x.is_function() || x.is_symbol()
}

/// The result as plain JavaScript objects (see the module docs).
fn to_js(result: &CallsUsageRes) -> JsValue {
    let text = result.to_json();
    // The text is well-formed by construction; a failure would be a bug,
    // reported as a thrown error rather than a trap.
    let value = JSON::parse(&text).unwrap_or_else(|e| e);
    if result.has_non_finite_costs() {
        restore_non_finite_costs(&value, result);
    }
    value
}

/// `to_json` writes NaN and ±Infinity costs as strings; put the numbers back.
fn restore_non_finite_costs(value: &JsValue, result: &CallsUsageRes) {
    let Ok(by_call) = Reflect::get(value, &JsValue::from_str("call_usage")) else { return };
    for (id, models) in &result.call_usage {
        let Ok(by_model) = Reflect::get(&by_call, &JsValue::from_str(id)) else { continue };
        for m in models.iter().filter(|m| m.costs.iter().any(|c| !c.is_finite())) {
            let Ok(usage) = Reflect::get(&by_model, &JsValue::from_str(&m.model)) else { continue };
            for (field, cost) in COST_FIELDS.iter().zip(m.costs) {
                // `usage` has own properties only, so this sets, never shadows.
                let _ = Reflect::set(&usage, &JsValue::from_str(field), &JsValue::from_f64(cost));
            }
        }
    }
}

/// The one place a core error becomes a JavaScript `Error`: `message` is a
/// readable summary, `status` the HTTP status, `detail` the FastAPI list.
fn throw(e: UsageError) -> JsValue {
    let error = js_sys::Error::new(&e.to_string());
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let detail = serde::Serialize::serialize(&e.detail, &serializer).unwrap_or_else(|_| Array::new().into());
    let _ = Reflect::set(&error, &JsValue::from_str("status"), &JsValue::from(e.status));
    let _ = Reflect::set(&error, &JsValue::from_str("detail"), &detail);
    error.into()
}
