//! Code generation for the routed body: the calls to the other implementations and
//! the `trace` span around a side. Nothing here can fail.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, Path};

use super::args::GateArgs;

/// The call to another implementation, every token spanned at the path that names it:
/// a signature that does not match (parameters, return type, `async`) is reported
/// there rather than on the gated function.
pub(super) fn call_other(func: &ItemFn, path: &Path, params: &[Ident]) -> TokenStream {
    let span = path.span();
    let args = params.iter().map(|p| {
        let mut p = p.clone();
        p.set_span(p.span().located_at(span));
        p
    });
    let receiver = func.sig.receiver().map(|r| {
        let mut token = r.self_token;
        token.span = token.span.located_at(span);
        quote!(#token,)
    });
    let target = if receiver.is_some() && path.get_ident().is_some() {
        quote_spanned!(span=> Self::#path)
    } else {
        quote!(#path)
    };
    let awaited = func.sig.asyncness.map(|_| quote_spanned!(span=> .await));
    let call = quote_spanned!(span=> #target(#receiver #(#args),*) #awaited);
    if func.sig.unsafety.is_some() {
        // The caller of the gated `unsafe fn` has upheld its contract; the other
        // implementation has the same signature, so the same contract.
        quote_spanned!(span=> unsafe { #call })
    } else {
        call
    }
}

/// One side as a block: `run` (statements, or the call to another implementation),
/// inside a `tracing` span when `trace` is on. In an `async fn` the span instruments
/// the side's future, as `#[tracing::instrument]` does, so it is entered on every poll
/// and never held across an `.await`.
pub(super) fn traced(
    args: &GateArgs,
    flag: &str,
    side: &str,
    function: &str,
    func: &ItemFn,
    run: TokenStream,
) -> TokenStream {
    if !args.trace {
        return quote!({ #run });
    }
    let tracing = quote!(::flags_runtime::__private::tracing);
    let span = quote! {
        let __flags_gate_span = #tracing::trace_span!(target: "flags::gate", "feature_gate", flag = #flag, side = #side, function = #function);
    };
    if func.sig.asyncness.is_some() {
        quote!({
            #span
            #tracing::Instrument::instrument(async move { #run }, __flags_gate_span).await
        })
    } else {
        quote!({
            #span
            let __flags_gate_entered = __flags_gate_span.enter();
            #run
        })
    }
}
