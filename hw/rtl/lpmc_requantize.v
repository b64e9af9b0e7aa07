// lpmc_requantize: a signed code with InFl fraction bits rounded to OutFl fraction bits and
// brought into OutWl bits; combinational. The bit-exact twin of
// lpmc_kernels::portable::round_code followed by Overflow::apply (docs/hardware.md).
//
// With S = InFl - OutFl > 0 discarded bits, floor = in >>> S, d = in mod 2^S (unsigned),
// half = 2^(S-1), u = rand_i:
//   Mode 0 nearest-even : up = d > half | (d == half & floor odd)
//   Mode 1 nearest-away : up = d > half | (d == half & in >= 0)
//   Mode 2 floor        : up = 0
//   Mode 3 toward-zero  : up = in < 0 & d != 0
//   Mode 4 sr:R         : t = top R bits of d (zero-padded when R > S); up = carry of t + u (R bits)
//   Mode 5 sr           : u has S bits; up = carry of d + u (S bits)
//   Mode 6 src:R        : t = d rounded to R bits, ties to even (0..2^R); up = (t + u) >= 2^R
// out_pre = floor + up; with S <= 0, out_pre = in << -S (the random bits are unused).
// Then Wrap = 0: saturate to [-2^(OutWl-1), 2^(OutWl-1) - 1]; Wrap = 1: keep the low OutWl
// bits. overflow_o = 1 iff out_o differs from out_pre.
module lpmc_requantize #(
  parameter integer InWl  = 16,
  parameter integer InFl  = 8,
  parameter integer OutWl = 8,
  parameter integer OutFl = 4,
  parameter integer Mode  = 4,
  parameter integer R     = 8,
  parameter integer Wrap  = 0,
  // Derived, do not override: the random bits the mode consumes and the port width.
  parameter integer Shift  = InFl - OutFl,
  parameter integer RBits  = (Mode == 5) ? ((Shift > 0) ? Shift : 0)
                           : ((Mode == 4 || Mode == 6) ? R : 0),
  parameter integer RandWl = (RBits > 0) ? RBits : 1
) (
  input  wire [InWl-1:0]   in_i,
  input  wire [RandWl-1:0] rand_i,
  output wire [OutWl-1:0]  out_o,
  output wire              overflow_o
);
  localparam integer S  = (Shift > 0) ? Shift : 0;   // discarded bits
  localparam integer L  = (Shift < 0) ? -Shift : 0;  // exact left shift
  localparam integer SW = (S > 0) ? S : 1;           // width of d
  localparam integer Big = ((InWl + L) > OutWl) ? (InWl + L) : OutWl;
  localparam integer W  = Big + 2;                   // holds floor + 1 and every out_pre

  wire signed [InWl-1:0]   k   = in_i;
  wire signed [W-1:0]      k_w = {{(W-InWl){k[InWl-1]}}, k};     // sign-extended
  /* verilator lint_off UNUSEDSIGNAL */
  // The input sign-extended over the discarded bits (only the low SW bits are used).
  wire        [InWl+SW-1:0] k_e = {{SW{k[InWl-1]}}, k};
  wire        [SW-1:0]     half = {{(SW-1){1'b0}}, 1'b1} << (SW - 1);
  /* verilator lint_on UNUSEDSIGNAL */
  wire        [SW-1:0]     d   = k_e[SW-1:0];
  /* verilator lint_off UNUSEDSIGNAL */
  wire unused_ok = ^{rand_i, d};  // some modes and shifts read neither
  /* verilator lint_on UNUSEDSIGNAL */
  wire signed [W-1:0]      floor_w = (k_w <<< L) >>> S;

  wire up;
  // With 1 discarded bit, `d > half` is constant: intended, the same code serves every S.
  /* verilator lint_off CMPCONST */
  generate
    if (S == 0) begin : g_exact
      assign up = 1'b0;
    end else if (Mode == 0) begin : g_ne
      assign up = (d > half) | ((d == half) & floor_w[0]);
    end else if (Mode == 1) begin : g_na
      assign up = (d > half) | ((d == half) & ~k[InWl-1]);
    end else if (Mode == 2) begin : g_floor
      assign up = 1'b0;
    end else if (Mode == 3) begin : g_tz
      assign up = k[InWl-1] & (d != {SW{1'b0}});
    end else if (Mode == 5) begin : g_sr_exact
      wire [S:0] sum = {1'b0, d} + {1'b0, rand_i[S-1:0]};
      assign up = sum[S];
    end else if (R == 0) begin : g_r0
      // sr:0 is truncation; src:0 rounds d to 0 bits (ties to even: to 0): up iff d > half.
      assign up = (Mode == 6) ? (d > half) : 1'b0;
    end else if (Mode == 4) begin : g_sr
      wire [R-1:0] t;
      if (R <= S) begin : g_top
        assign t = d[S-1:S-R];
      end else begin : g_pad
        assign t = {d, {(R-S){1'b0}}};
      end
      wire [R:0] sum = {1'b0, t} + {1'b0, rand_i[R-1:0]};
      assign up = sum[R];
    end else begin : g_src
      wire [R:0] t;  // 0 ..= 2^R
      if (R >= S) begin : g_pad
        assign t = {1'b0, d, {(R-S){1'b0}}};
      end else begin : g_rne
        localparam integer Sh = S - R;
        wire [R-1:0]  q    = d[S-1:Sh];
        wire [Sh-1:0] rem  = d[Sh-1:0];
        wire [Sh-1:0] rh   = {{(Sh-1){1'b0}}, 1'b1} << (Sh - 1);
        wire          inc  = (rem > rh) | ((rem == rh) & q[0]);
        assign t = {1'b0, q} + {{R{1'b0}}, inc};
      end
      wire [R+1:0] sum = {1'b0, t} + {2'b00, rand_i[R-1:0]};
      assign up = sum[R+1] | sum[R];
    end
  endgenerate
  /* verilator lint_on CMPCONST */

  wire signed [W-1:0] pre = floor_w + {{(W-1){1'b0}}, up};

  generate
    if (Wrap != 0) begin : g_wrap
      assign out_o      = pre[OutWl-1:0];
      assign overflow_o = pre != {{(W-OutWl){pre[OutWl-1]}}, pre[OutWl-1:0]};
    end else begin : g_sat
      wire signed [W-1:0] max_c = {{(W-OutWl+1){1'b0}}, {(OutWl-1){1'b1}}};
      wire signed [W-1:0] min_c = {{(W-OutWl+1){1'b1}}, {(OutWl-1){1'b0}}};
      wire hi = pre > max_c;
      wire lo = pre < min_c;
      assign out_o      = hi ? max_c[OutWl-1:0] : (lo ? min_c[OutWl-1:0] : pre[OutWl-1:0]);
      assign overflow_o = hi | lo;
    end
  endgenerate
endmodule
