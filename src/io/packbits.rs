//! PackBits run-length coding (Apple TN1023), the "RLE" compression of PSD channels.

/// Append the PackBits encoding of one row to `out`.
pub fn encode_row(row: &[u8], out: &mut Vec<u8>) {
    let n = row.len();
    let mut i = 0;
    while i < n {
        let run = run_length(row, i);
        if run >= 2 {
            // A repeat packet: header 1 − run (−1 ..= −127), then the byte.
            out.push((1 - run as i32) as i8 as u8);
            out.push(row[i]);
            i += run;
            continue;
        }
        // A literal packet: up to 128 bytes, stopping before a run worth encoding (3+ bytes;
        // a 2-byte run inside a literal costs nothing extra to keep literal).
        let start = i;
        while i < n && i - start < 128 {
            if run_length(row, i) >= 3 {
                break;
            }
            i += 1;
        }
        out.push((i - start - 1) as u8);
        out.extend_from_slice(&row[start..i]);
    }
}

/// How many times `row[i]` repeats from `i` on, at most 128.
fn run_length(row: &[u8], i: usize) -> usize {
    let b = row[i];
    row[i..].iter().take(128).take_while(|&&x| x == b).count()
}

/// Decode PackBits data that should expand to exactly `len` bytes.
#[cfg(test)]
pub fn decode(data: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(len);
    let mut i = 0;
    while out.len() < len {
        let header = *data.get(i)? as i8;
        i += 1;
        match header {
            -128 => {}
            h if h >= 0 => {
                let count = h as usize + 1;
                out.extend_from_slice(data.get(i..i + count)?);
                i += count;
            }
            h => {
                let count = (1 - h as i32) as usize;
                let b = *data.get(i)?;
                i += 1;
                out.extend(std::iter::repeat_n(b, count));
            }
        }
    }
    (out.len() == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rows_of_every_shape() {
        let mut rows: Vec<Vec<u8>> = vec![
            vec![],
            vec![7],
            vec![1, 1],
            vec![1, 2, 3],
            vec![5; 300],
            (0..=255).collect(),
            b"AAABBBCDEEEEEEEEFGHHHHI".to_vec(),
        ];
        // Pseudo-random rows with runs of random lengths.
        let mut state = 12345u32;
        for _ in 0..50 {
            let mut row = Vec::new();
            while row.len() < 700 {
                state = state.wrapping_mul(1664525).wrapping_add(1013904223);
                let len = (state >> 24) as usize % 200 + 1;
                let b = (state >> 8) as u8 % 4;
                row.extend(std::iter::repeat_n(b, if state & 1 == 0 { 1 } else { len }));
            }
            rows.push(row);
        }
        for row in rows {
            let mut enc = Vec::new();
            encode_row(&row, &mut enc);
            assert_eq!(decode(&enc, row.len()).as_deref(), Some(&row[..]));
            assert!(enc.len() <= row.len() + row.len().div_ceil(128), "worst case bound");
        }
    }

    #[test]
    fn long_runs_compress() {
        let mut enc = Vec::new();
        encode_row(&[9; 1000], &mut enc);
        assert!(enc.len() <= 16, "{}", enc.len());
    }

    #[test]
    fn truncated_input_is_rejected() {
        assert_eq!(decode(&[5, 1, 2], 6), None);
    }
}
