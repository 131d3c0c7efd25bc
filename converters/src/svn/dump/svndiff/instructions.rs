//! Running one window's instructions against its source view, new data and target view.

use std::io::{Read, Seek, SeekFrom};

use super::svndiff_error;
use super::window::{decode_varint, Window, WindowBuffers};
use crate::svn::dump::error::DumpError;

/// Loads the window's source view from the base.
pub(super) fn read_source_view<B: Read + Seek>(
    base: &mut B,
    window: &Window,
    source: &mut Vec<u8>,
) -> Result<(), DumpError> {
    source.clear();
    if window.source_length == 0 {
        return Ok(());
    }
    let base_error = |message: String| svndiff_error(window.offset, message);
    base.seek(SeekFrom::Start(window.source_offset))
        .map_err(|error| {
            base_error(format!(
                "cannot seek the base to byte {}: {error}",
                window.source_offset
            ))
        })?;
    let read = base
        .take(window.source_length as u64)
        .read_to_end(source)
        .map_err(|error| base_error(format!("cannot read the base: {error}")))?;
    if read < window.source_length {
        return Err(base_error(format!(
            "source view of {} bytes at base offset {} extends past the end of the base",
            window.source_length, window.source_offset
        )));
    }
    Ok(())
}

/// Runs the window's instructions, filling `buffers.target`.
pub(super) fn build_target_view(
    window: &Window,
    buffers: &mut WindowBuffers,
) -> Result<(), DumpError> {
    let WindowBuffers {
        instructions,
        new_data,
        source,
        target,
        ..
    } = buffers;
    target.clear();
    target.reserve(window.target_length);
    let fail = |message: String| svndiff_error(window.offset, message);
    let mut position = 0usize;
    let mut new_data_used = 0usize;
    while position < instructions.len() {
        let opcode = instructions[position];
        position += 1;
        let mut operand = |what: &str| -> Result<usize, DumpError> {
            let (value, used) = decode_varint(&instructions[position..])
                .ok_or_else(|| fail(format!("instruction {what} is cut short or too large")))?;
            position += used;
            usize::try_from(value).map_err(|_| fail(format!("instruction {what} is too large")))
        };
        let length = match usize::from(opcode & 0x3f) {
            0 => operand("length")?,
            short => short,
        };
        if length > window.target_length - target.len() {
            return Err(fail(format!(
                "instruction copies {length} bytes but only {} bytes of the {}-byte target view remain",
                window.target_length - target.len(),
                window.target_length
            )));
        }
        match opcode >> 6 {
            0 => {
                let from = operand("source offset")?;
                let range = from
                    .checked_add(length)
                    .filter(|&end| end <= source.len())
                    .map(|end| from..end)
                    .ok_or_else(|| {
                        fail(format!(
                            "source copy of {length} bytes at offset {from} exceeds the {}-byte source view",
                            source.len()
                        ))
                    })?;
                target.extend_from_slice(&source[range]);
            }
            1 => {
                let from = operand("target offset")?;
                if from >= target.len() {
                    return Err(fail(format!(
                        "target copy from offset {from} starts at or after the current target position {}",
                        target.len()
                    )));
                }
                // The copy may overlap the bytes it produces, so it runs
                // byte by byte in order (repeating the pattern).
                for index in from..from + length {
                    let byte = target[index];
                    target.push(byte);
                }
            }
            2 => {
                let range = new_data_used
                    .checked_add(length)
                    .filter(|&end| end <= new_data.len())
                    .map(|end| new_data_used..end)
                    .ok_or_else(|| {
                        fail(format!(
                            "new-data copy of {length} bytes at offset {new_data_used} exceeds the {}-byte new data section",
                            new_data.len()
                        ))
                    })?;
                target.extend_from_slice(&new_data[range]);
                new_data_used += length;
            }
            _ => {
                return Err(fail(format!(
                    "invalid instruction selector in opcode {opcode:#04x}"
                )))
            }
        }
    }
    if target.len() != window.target_length {
        return Err(fail(format!(
            "instructions produce {} bytes but the target view is {} bytes",
            target.len(),
            window.target_length
        )));
    }
    Ok(())
}
