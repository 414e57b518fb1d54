//! What std's prelude gives every module, from `alloc`: the crate is `no_std` (lib.rs), so each
//! module that allocates says `use crate::prelude::*;`.
pub(crate) use alloc::borrow::ToOwned;
pub(crate) use alloc::string::{String, ToString};
pub(crate) use alloc::vec::Vec;
pub(crate) use alloc::{format, vec};

/// The `f64` methods core uses that std defines and core does not (`floor`, `fract`, `cos`,
/// `log2`). Native builds link std and call std's (lib.rs), exactly as before; on wasm32, where
/// nothing links std, they are `libm`'s, the code std's own wasm32 build calls for them.
#[cfg(all(target_arch = "wasm32", not(test)))]
pub(crate) trait F64Math {
    fn floor(self) -> f64;
    fn fract(self) -> f64;
    fn cos(self) -> f64;
    fn log2(self) -> f64;
}

#[cfg(all(target_arch = "wasm32", not(test)))]
impl F64Math for f64 {
    fn floor(self) -> f64 {
        libm::floor(self)
    }
    /// As std defines it: `self - self.trunc()`.
    fn fract(self) -> f64 {
        self - libm::trunc(self)
    }
    fn cos(self) -> f64 {
        libm::cos(self)
    }
    fn log2(self) -> f64 {
        libm::log2(self)
    }
}
