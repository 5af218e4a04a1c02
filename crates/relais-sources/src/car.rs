//! A CAR v1 reader (content-addressed archive: the `blocks` of a firehose `#commit`).
//!
//! Layout (ipld.io/specs/transport/car/carv1): `varint(len) header` where the header is DAG-CBOR
//! `{version: 1, roots: [CID]}`, then sections `varint(len) CID block-bytes` until the end.
//! Every block is checked against its CID (sha2-256, the only hash atproto uses), so a record read
//! from here is the one the commit's operation names.

use std::collections::HashMap;

use ipld_core::cid::Cid;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::SourceError;

/// multihash code of sha2-256.
const SHA2_256: u64 = 0x12;
/// A firehose commit carries a few blocks; this bounds the map a hostile frame can make.
const MAX_BLOCKS: usize = 10_000;

/// The blocks of a CAR file, by CID, borrowed from the input.
#[derive(Debug)]
pub struct Car<'a> {
    pub roots: Vec<Cid>,
    blocks: HashMap<Cid, &'a [u8]>,
}

impl<'a> Car<'a> {
    pub fn get(&self, cid: &Cid) -> Option<&'a [u8]> {
        self.blocks.get(cid).copied()
    }

    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }
}

#[derive(Deserialize)]
struct Header {
    version: u64,
    #[serde(default)]
    roots: Vec<Cid>,
}

/// Unsigned LEB128, at most 9 bytes (63 bits) as the multiformats spec requires.
pub(crate) fn read_varint(buf: &[u8]) -> Result<(u64, usize), SourceError> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(9) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            if b == 0 && i > 0 {
                return Err(SourceError::malformed("CAR: varint not minimally encoded"));
            }
            return Ok((v, i + 1));
        }
    }
    Err(SourceError::malformed("CAR: truncated or oversized varint"))
}

/// Split `varint(len) payload` off the front of `buf`.
fn section(buf: &[u8]) -> Result<(&[u8], &[u8]), SourceError> {
    let (len, n) = read_varint(buf)?;
    let rest = &buf[n..];
    let len = usize::try_from(len).map_err(|_| SourceError::malformed("CAR: section too long"))?;
    if len > rest.len() {
        return Err(SourceError::malformed(format!(
            "CAR: section of {len} bytes but only {} left (cut short)",
            rest.len()
        )));
    }
    Ok(rest.split_at(len))
}

/// Parse a whole CAR v1 file, verifying every block's hash.
pub fn read_car(mut buf: &[u8]) -> Result<Car<'_>, SourceError> {
    let (head, rest) = section(buf)?;
    let header: Header = serde_ipld_dagcbor::from_slice(head)
        .map_err(|e| SourceError::malformed(format!("CAR header: {e}")))?;
    if header.version != 1 {
        return Err(SourceError::malformed(format!(
            "CAR version {} (only 1 is supported)",
            header.version
        )));
    }
    buf = rest;
    let mut blocks = HashMap::new();
    while !buf.is_empty() {
        if blocks.len() == MAX_BLOCKS {
            return Err(SourceError::malformed("CAR: too many blocks"));
        }
        let (sec, rest) = section(buf)?;
        buf = rest;
        let mut cursor = std::io::Cursor::new(sec);
        let cid = Cid::read_bytes(&mut cursor)
            .map_err(|e| SourceError::malformed(format!("CAR: block CID: {e}")))?;
        let data = &sec[cursor.position() as usize..];
        let mh = cid.hash();
        if mh.code() != SHA2_256 {
            return Err(SourceError::malformed(format!(
                "CAR: block hash 0x{:x} (atproto uses sha2-256)",
                mh.code()
            )));
        }
        if Sha256::digest(data).as_slice() != mh.digest() {
            return Err(SourceError::malformed(format!(
                "CAR: block {cid} does not match its hash"
            )));
        }
        blocks.insert(cid, data);
    }
    Ok(Car {
        roots: header.roots,
        blocks,
    })
}

/// Write a CAR v1 file (tests and fuzz seeds build frames with it).
pub fn write_car(roots: &[Cid], blocks: &[(Cid, Vec<u8>)]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct H<'a> {
        roots: &'a [Cid],
        version: u64,
    }
    let head = serde_ipld_dagcbor::to_vec(&H { roots, version: 1 }).expect("CAR header encodes");
    let mut out = Vec::new();
    write_varint(&mut out, head.len() as u64);
    out.extend_from_slice(&head);
    for (cid, data) in blocks {
        let c = cid.to_bytes();
        write_varint(&mut out, (c.len() + data.len()) as u64);
        out.extend_from_slice(&c);
        out.extend_from_slice(data);
    }
    out
}

fn write_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The CIDv1 (dag-cbor, sha2-256) of a DAG-CBOR block.
pub fn cid_for_cbor(block: &[u8]) -> Cid {
    const DAG_CBOR: u64 = 0x71;
    let mh = ipld_core::cid::multihash::Multihash::<64>::wrap(SHA2_256, &Sha256::digest(block))
        .expect("a 32-byte digest fits");
    Cid::new_v1(DAG_CBOR, mh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_verification() {
        let block = serde_ipld_dagcbor::to_vec(&serde_json::json!({"text": "hi"})).unwrap();
        let cid = cid_for_cbor(&block);
        let car = write_car(&[cid], &[(cid, block.clone())]);
        let r = read_car(&car).unwrap();
        assert_eq!(r.roots, vec![cid]);
        assert_eq!(r.get(&cid), Some(block.as_slice()));

        // A tampered block is refused.
        let mut bad = car.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(read_car(&bad).unwrap_err().message.contains("hash"));
        // Cut short.
        let e = read_car(&car[..car.len() - 3]).unwrap_err();
        assert!(e.message.contains("cut short"), "{e}");
        // Garbage.
        assert!(read_car(&[0xff; 12]).is_err());
        assert!(read_car(&[]).is_err());
    }

    #[test]
    fn varints() {
        assert_eq!(read_varint(&[0x05]).unwrap(), (5, 1));
        assert_eq!(read_varint(&[0xac, 0x02]).unwrap(), (300, 2));
        assert!(read_varint(&[0x80, 0x00]).is_err(), "not minimal");
        assert!(read_varint(&[0xff; 10]).is_err());
        let mut v = Vec::new();
        write_varint(&mut v, 1 << 40);
        assert_eq!(read_varint(&v).unwrap(), (1 << 40, v.len()));
    }
}
