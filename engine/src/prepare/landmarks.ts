// The 478-point face mesh layout (MediaPipe's numbering): 468 face points, then 10 iris points. "Right" and "left"
// are the subject's (the right eye is on the image's left in a non-mirrored video).

export const MESH_POINTS = 468;
export const LANDMARKS = 478;
/** Iris points: centre, then four on the iris boundary. */
export const RIGHT_IRIS = [468, 469, 470, 471, 472] as const;
export const LEFT_IRIS = [473, 474, 475, 476, 477] as const;

/** Eye corners [outer, inner]. */
export const RIGHT_EYE_CORNERS = [33, 133] as const;
export const LEFT_EYE_CORNERS = [263, 362] as const;

/** The face's outline (MediaPipe's FACEMESH_FACE_OVAL), in order around the face: forehead top (10), the subject's
 * left side down to the chin (152), then up the right side. */
export const FACE_OVAL = [
  10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136,
  172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
] as const;
/** The jaw: the face oval's lower part from the subject's left ear level (454) round the chin (152) to the right (234). */
export const JAW = [
  454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234,
] as const;
/** The inner lip line, in order: the mouth opening. */
export const INNER_LIPS = [
  78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95,
] as const;
/** The outer lip line, in order (MediaPipe's lip contour). */
export const OUTER_LIPS = [
  61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
] as const;
export const CHIN = 152;
/** Inner lip midpoints, upper and lower. */
export const INNER_LIP_UPPER = 13;
export const INNER_LIP_LOWER = 14;
